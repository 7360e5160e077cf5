"""What every page handler and template of jixiao shares: reading forms and query strings
(one year parser, one version parser, one form-error shape), answering with a redirect the
htmx way, and formatting money, percentages and parses for people."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.domain.evaluation import FLAG, MAX_YEAR, MIN_YEAR
from app.domain.scoring import score_text
from app.domain.targets import magnitude_of, magnitude_of_unit
from app.services.errors import FieldError, ValidationFailed
from app.web.render import plain, wants_fragment

# --- reading what was sent ------------------------------------------------------------------

YearQuery = Annotated[int | None, Query(ge=MIN_YEAR, le=MAX_YEAR, description="年度")]


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form as text fields; an empty field is kept (it clears), an absent one is not sent."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(form_fields)]


def parse_year(text: str | None, field: str = "year") -> int | None:
    """A year typed in a form or a query string: empty → None; otherwise four digits in range."""
    text = (text or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or not MIN_YEAR <= int(text) <= MAX_YEAR:
        message = f"年度应为 {MIN_YEAR} 至 {MAX_YEAR} 之间的四位数字，如 2024"
        raise ValidationFailed(message, errors=[FieldError(field, message)])
    return int(text)


def parse_id(text: str | None, field: str) -> int | None:
    """A positive whole number (an id, a page) from a form or query string; empty → None."""
    text = (text or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise ValidationFailed("筛选条件有误", errors=[FieldError(field, "应为正整数")])
    return int(text)


def collect(problems: list[FieldError], parse, *args) -> Any:
    """Run a parser, adding its refusal to `problems` instead of raising, so that a form with
    several bad fields is answered with all of them at once."""
    try:
        return parse(*args)
    except ValidationFailed as exc:
        problems.extend(exc.errors)
        return None


def parse_version(form: dict[str, str]) -> int | None:
    """The version the page was rendered with (None when absent or not a number: the service
    then refuses a stale write as a conflict)."""
    text = (form.get("version") or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


def field_errors(errors: list[FieldError]) -> dict[int | None, dict[str, str]]:
    """The one shape of a form's errors: by indicator (None: the fields outside the rows), then
    by the field's last name (`results[3].actual` → "actual"); the first message wins."""
    out: dict[int | None, dict[str, str]] = {}
    for error in errors:
        name = error.field.rsplit(".", 1)[-1]
        out.setdefault(error.indicator_id, {}).setdefault(name, error.message)
    return out


# --- answering ---------------------------------------------------------------------------


def see_other(request: Request, target: str) -> Response:
    """After a change, go to `target`: for htmx a 204 with HX-Redirect (htmx does not read the
    header on a 3xx, which the browser follows first), for a plain form a 303."""
    if wants_fragment(request):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


# --- formatting for people -------------------------------------------------------------------

OPS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "=", "~": "约"}


def money(value: Decimal | None) -> str:
    """万元 as written: exact, no exponent, trailing zeros dropped but at least 2 decimals."""
    if value is None:
        return ""
    text = format(value, "f")
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0").ljust(2, "0")
        return f"{whole}.{frac}"
    return f"{text}.00"


def pct(value: Decimal, places: int = 2) -> Decimal:
    """Percentage points at the precision the template keeps (2 decimals by default)."""
    return value.quantize(Decimal(1).scaleb(-places))


def sc(value: Decimal | None, places: int) -> str:
    """A score or weight at the template's precision; empty when there is none."""
    return score_text(value, places) or ""


def describe(parsed: Any) -> str:
    """A parse (TargetParse or its JSON) in words: 数值 ≥ 12 份, 日期 2024-11-30, 文字."""
    if parsed is None:
        return ""
    get = parsed.get if isinstance(parsed, dict) else lambda key: getattr(parsed, key)
    kind = get("kind")
    if kind == "deadline":
        deadline = get("deadline")
        return f"日期 {OPS.get(get('op') or '', '')} {deadline}".replace("  ", " ") if deadline else "日期"
    if kind == "quantity":
        value, value_max, unit = get("value"), get("value_max"), get("unit_raw") or get("unit") or ""
        if value is None:
            return "数值"
        # the value is stored in 元 (magnitude applied): shown in the unit as written (65 万元)
        exponent = magnitude_of_unit(get("unit_raw") or "")

        def shown(number: Any) -> str:
            return "" if number is None else plain(Decimal(str(number)).scaleb(-exponent))

        if get("op") == "range":
            return f"数值 {shown(value)}–{shown(value_max)} {unit}".rstrip()
        return f"数值 {OPS.get(get('op') or '=', '=')} {shown(value)} {unit}".rstrip()
    return f"文字（{FLAG['target_unparsed'].short}）"


OP_WORDS = {">=": "不少于", ">": "多于", "<=": "不超过", "<": "少于", "=": "等于", "~": "约为"}
DIRECTION_WORDS = {"higher": "越高越好", "lower": "越低越好"}


def understood(parsed: Any) -> str:
    """What jixiao understood of a target, in a user's words, the number in the unit as written:
    "不少于 12 份（越高越好）", "在 2025-12-31 前（含当天）完成", "文字描述：按达成程度评分"."""
    if parsed is None:
        return ""
    if parsed.kind == "deadline":
        if parsed.deadline is None:
            return "完成时间（未能确定日期）"
        return f"在 {parsed.deadline.isoformat()} 前（含当天）完成"
    if parsed.kind == "quantity" and parsed.value is not None:
        exponent = magnitude_of(parsed)
        value = plain(parsed.value.scaleb(-exponent))
        unit = parsed.unit_raw or parsed.unit or ""
        if parsed.op == "range" and parsed.value_max is not None:
            text = f"在 {value} 至 {plain(parsed.value_max.scaleb(-exponent))} {unit} 之间"
        else:
            text = f"{OP_WORDS.get(parsed.op or '=', '等于')} {value} {unit}"
        direction = DIRECTION_WORDS.get(parsed.direction or "")
        return text.rstrip() + (f"（{direction}）" if direction else "")
    return "文字描述：按达成程度评分，不按数值计算"


# Formatting helpers every template of the evaluation screens uses.
HELPERS: dict[str, Any] = {
    "money": money,
    "pct": pct,
    "sc": sc,
    "plain": plain,
    "describe": describe,
    "understood": understood,
}
