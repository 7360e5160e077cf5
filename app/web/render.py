"""Rendering pages and their htmx fragments from one template per screen."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2_fragments.fastapi import Jinja2Blocks

from app.domain import evaluation as lifecycle
from app.domain.monitoring import LIGHT_LABELS as MONITORING_LIGHTS
from app.domain.scoring import NATIONAL_2020, TemplateSettings
from app.settings import ROOT

templates = Jinja2Blocks(directory=str(ROOT / "templates"))
templates.env.globals["site_name"] = "绩效目标与自评服务"
# Users read China Standard Time; timestamps are stored in UTC.
CST = timezone(timedelta(hours=8))


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(CST).strftime(fmt) if value else ""


templates.env.filters["local_time"] = local_time


def template_words(label: str) -> str:
    """A scoring template as a 财政 official names it (its rule, 财预〔2020〕10号), not its code (national-2020@1)."""
    from app.services.templates import SHORT_TITLES

    name, _, version = label.partition("@")
    words = SHORT_TITLES.get(name)
    if words is None:
        return label
    return words if version in ("", "1") else f"{words}（第 {version} 版）"


def plain(value: Any) -> str:
    """A number without trailing zeros (12, 97.5)."""
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


# a number the user typed, shown back without the zeros a Numeric(10, 2) column pads it with (10, not 10.00)
templates.env.filters["plain"] = plain


def weight(points: Any) -> str:
    """A weight as every page writes it: the number without trailing zeros, a space, 分 (50 分, 7.5 分).

    One way for a category's (产出指标（50 分）), the budget rate's and an item's weight, on the form,
    its print, the review page and the fund's pages alike."""
    return f"{plain(points)}\u00a0分"  # a no-break space: 50 and 分 never part at a line end


def flag_words(settings: TemplateSettings) -> dict[str, dict[str, str]]:
    """The flag badges' sentence, short text and tone, worded with this template's thresholds."""
    texts = lifecycle.flag_texts(settings)
    return {
        "FLAG_LABELS": {code: t["label"] for code, t in texts.items()},
        "FLAG_SHORT": {code: t["short"] for code, t in texts.items()},
        "FLAG_TONE": {code: t["tone"] for code, t in texts.items() if t["tone"]},
        "QUEUE_FLAGS": lifecycle.queue_flags(settings),
    }


# The evaluation's words for every template: statuses, levels, roles, the lifecycle's question
# ("may this principal do this now?"), and the flag words of the default template (a page about
# one evaluation overrides them with its own template's, see flag_words).
templates.env.globals.update(
    {
        "STATUS": lifecycle.STATUS,
        "STATUS_LABELS": lifecycle.STATUS_LABELS,
        "SENT_BACK": lifecycle.SENT_BACK,
        "HANDED_IN_LABEL": lifecycle.HANDED_IN_LABEL,
        "AWAITING_REVIEW": lifecycle.AWAITING_REVIEW,
        "APPROVE_SOURCES": lifecycle.sources_for("approve"),
        "LEVEL_LABELS": lifecycle.LEVEL_LABELS,
        "SPLIT_SOURCES": lifecycle.FUND_SOURCES,
        "template_words": template_words,
        "ROLE_LABELS": lifecycle.ROLE_LABELS,
        "may": lifecycle.may,
        "MONITORING_LIGHTS": MONITORING_LIGHTS,
        "outcome": lifecycle.outcome,
        "weight": weight,
        **flag_words(NATIONAL_2020),
    }
)


def compile_templates() -> int:
    """Compile every template now (a worker's start) instead of on its first use: the 自评表 alone
    (its page, macros and partials) took ~0.7 s of CPU, paid by the first user of each worker after
    every start, and by every request queued behind it. Returns how many there are."""
    names = templates.env.list_templates(extensions=["html"])
    for name in names:
        templates.env.get_template(name)
    return len(names)


def wants_fragment(request: Request) -> bool:
    """A fragment only for a real htmx request: not boosted, not a history restore."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-boosted") != "true"
        and headers.get("hx-history-restore-request") != "true"
    )


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The whole page, or only `block` of it when htmx asked for a fragment."""
    ctx = {"request": request, "principal": getattr(request.state, "principal", None)}
    ctx.update(context or {})
    block_name = block if (block and wants_fragment(request)) else None
    response = templates.TemplateResponse(
        request, name, ctx, status_code=status_code, headers=headers, block_name=block_name
    )
    response.headers["Vary"] = "HX-Request"
    return response
