"""The mid-year monitoring (双监控) pages: the bureau opens and closes a round, a unit fills in each
project's 执行数 and indicator progress (the fields save themselves as on the 自评表), everyone sees the
lights; the department and the bureau see the overview with its chart and download it as xlsx.
Thin handlers over app.services.monitoring."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.domain import monitoring as m
from app.services import audit, monitoring, monitoring_export
from app.services.errors import FieldError, ValidationFailed
from app.services.monitoring import UNSET, GroupLine, ReportLine
from app.services.scope import require_role
from app.web.deps import PagePrincipal
from app.web.overview import INK, LABEL_WIDTH, MAX_ROWS, MUTED, ROW_HEIGHT, Chart, Shape, _label
from app.web.render import render, templates, wants_fragment
from app.web.toolkit import HELPERS, FormFields, field_errors, parse_id, parse_version, parse_year, see_other

router = APIRouter()

INDEX = "monitoring/index.html"
FORM = "monitoring/form.html"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROW_FIELDS = monitoring.ENTRY_FIELDS
BAR_WIDTH = 300

WORDS = {
    "LIGHTS": (*m.LIGHTS, m.NO_LIGHT),
    "LIGHT_LABELS": m.LIGHT_LABELS,
    "LIGHT_MEANINGS": m.LIGHT_MEANINGS,
    "LIGHT_COLORS": m.LIGHT_COLORS,
    "JUDGEMENT_LABELS": m.JUDGEMENT_LABELS,
    "ROUND_STATUS_LABELS": m.ROUND_STATUS_LABELS,
    "REASON_WORDS": m.REASON_WORDS,
    "MEASURE_WORDS": m.MEASURE_WORDS,
    "points": m.points,
    "figure": lambda value: None if value is None else format(m.points(Fraction(value)).normalize(), "f"),  # type: ignore[union-attr]
}


# --- the charts (server-drawn SVG, as on /overview) --------------------------------------------


def lights_chart(rows: list[GroupLine], title: str) -> Chart:
    """Stacked bars: how many projects show each target light, per department or unit."""
    rows = rows[:MAX_ROWS]
    chart = Chart(
        title,
        LABEL_WIDTH + BAR_WIDTH + 60,
        max(1, len(rows)) * ROW_HEIGHT + 10,
        legend=[(m.LIGHT_COLORS[k], m.LIGHT_LABELS[k]) for k in WORDS["LIGHTS"]],
    )
    for n, row in enumerate(rows):
        y = 5 + n * ROW_HEIGHT
        _label(chart.shapes, y, row.name)
        x = float(LABEL_WIDTH)
        for light in WORDS["LIGHTS"]:
            count = row.lights.get(light, 0)
            if not count or not row.projects:
                continue
            width = BAR_WIDTH * count / row.projects
            chart.shapes.append(
                Shape(
                    "rect",
                    {
                        "x": round(x, 2),
                        "y": y + 3,
                        "width": round(width, 2),
                        "height": ROW_HEIGHT - 6,
                        "fill": m.LIGHT_COLORS[light],
                        "data-light": light,
                    },
                    title=f"{row.name}：{m.LIGHT_LABELS[light]} {count} 个",
                )
            )
            x += width
        chart.shapes.append(
            Shape(
                "text",
                {"x": LABEL_WIDTH + BAR_WIDTH + 6, "y": y + ROW_HEIGHT / 2 + 4, "font-size": 12, "fill": MUTED},
                f"红 {row.lights.get(m.RED, 0)}/{row.projects}",
                f"红灯项目 {row.lights.get(m.RED, 0)} / 项目 {row.projects}",
            )
        )
    chart.note = "按绩效目标进度的灯计项目数（一个项目取其最差的指标）；右侧：红灯项目 / 项目数"
    return chart


def spending_chart(rows: list[GroupLine], title: str, line: Fraction, thresholds: m.Thresholds) -> Chart:
    """支出进度 per department or unit against the time line at the cut-off (a dashed mark)."""
    rows = rows[:MAX_ROWS]
    width_all = 400
    chart = Chart(
        title,
        LABEL_WIDTH + width_all + 20,
        max(1, len(rows)) * ROW_HEIGHT + 26,
        legend=[(m.LIGHT_COLORS[k], f"{m.LIGHT_LABELS[k]}（{m.LIGHT_MEANINGS[k]}）") for k in m.LIGHTS],
    )
    for n, row in enumerate(rows):
        y = 5 + n * ROW_HEIGHT
        _label(chart.shapes, y, row.name)
        rate = row.spending_rate
        if rate is None:
            chart.shapes.append(
                Shape(
                    "text",
                    {"x": LABEL_WIDTH + 4, "y": y + ROW_HEIGHT / 2 + 4, "font-size": 12, "fill": MUTED},
                    "未填执行数",
                )
            )
            continue
        light = m.light_for(line - rate, thresholds)
        shown = m.points(rate)
        width = round(float(min(rate, Fraction(100)) / 100 * width_all), 2)
        chart.shapes.append(
            Shape(
                "rect",
                {
                    "x": LABEL_WIDTH,
                    "y": y + 3,
                    "width": width,
                    "height": ROW_HEIGHT - 6,
                    "fill": m.LIGHT_COLORS[light],
                    "data-light": light,
                },
                title=f"{row.name}：支出进度 {shown}%（{m.LIGHT_LABELS[light]}）",
            )
        )
        chart.shapes.append(
            Shape(
                "text",
                {"x": round(LABEL_WIDTH + width + 5, 2), "y": y + ROW_HEIGHT / 2 + 4, "font-size": 12, "fill": INK},
                f"{shown}%",
            )
        )
    bottom = 5 + max(1, len(rows)) * ROW_HEIGHT
    x = round(LABEL_WIDTH + float(line / 100) * width_all, 2)
    chart.shapes.append(
        Shape("line", {"x1": x, "y1": 2, "x2": x, "y2": bottom, "stroke": INK, "stroke-dasharray": "3 3"})
    )
    chart.shapes.append(
        Shape(
            "text",
            {"x": x, "y": bottom + 15, "text-anchor": "middle", "font-size": 11, "fill": MUTED},
            f"时间进度 {m.points(line)}%",
        )
    )
    chart.note = "支出进度 = 截至监控日的执行数 ÷ 全年预算数（仅计已填执行数的项目）；虚线为时间进度"
    return chart


# --- the overview and the rounds --------------------------------------------------------------


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    light = (q.get("light") or "").strip() or None
    if light is not None and light not in WORDS["LIGHTS"]:
        raise ValidationFailed("筛选条件有误", errors=[FieldError("light", "应为 green、yellow、red 或 none")])
    return {
        "department_id": parse_id(q.get("department_id"), "department_id"),
        "unit_id": parse_id(q.get("unit_id"), "unit_id"),
        "light": light,
    }


@router.get("/monitoring")
def index(request: Request, principal: PagePrincipal, session: SessionDep):
    """The year's monitoring: the round, counts per light by department and unit, the chart, every project."""
    year = parse_year(request.query_params.get("year")) or monitoring.latest_year(session=session)
    return _index(request, principal, session, year, _filters(request))


def _index(request, principal, session, year, filters, *, errors=None, typed=None, status_code=200):
    rnd = monitoring.round_of(session=session, year=year) if year else None
    view = monitoring.overview(session=session, principal=principal, year=year, **filters) if rnd else None
    charts = {}
    if view is not None:
        charts = {
            "department_lights": lights_chart(view.departments, "各主管部门目标进度亮灯"),
            "unit_lights": lights_chart(view.units, "各单位目标进度亮灯"),
            "department_spending": spending_chart(view.departments, "各主管部门支出进度", view.line, view.thresholds),
            "unit_spending": spending_chart(view.units, "各单位支出进度", view.line, view.thresholds),
        }
    return render(
        request,
        INDEX,
        {
            **WORDS,
            **HELPERS,
            "year": year,
            "rnd": rnd,
            "view": view,
            "charts": charts,
            "filters": filters,
            "rounds": monitoring.rounds(session=session),
            "manager": principal.role in monitoring.MANAGERS,
            "rule": m.light_doc(view.thresholds) if view else m.light_doc(),
            "errors": errors or {},
            "typed": typed or {},
            "export_query": _query(year, filters),
        },
        status_code=status_code,
    )


def _query(year: int | None, filters: dict[str, Any]) -> str:
    parts = [f"year={year}"] if year else []
    parts += [f"{k}={v}" for k, v in filters.items() if v is not None]
    return "&".join(parts)


def _parse_date(text: str | None) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            "开启运行监控的信息有误", errors=[FieldError("cutoff_date", "日期格式应为 2025-06-30")]
        ) from None


@router.post("/monitoring/rounds")
def open_round(request: Request, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Open (or reopen, or move the cut-off of) a year's round; then back to the year's overview."""
    typed = {"year": form.get("year", ""), "cutoff_date": form.get("cutoff_date", "")}
    require_role(principal, *monitoring.MANAGERS)
    try:
        year = parse_year(typed["year"])
        cutoff = _parse_date(typed["cutoff_date"])
        if year is None:
            raise ValidationFailed("开启运行监控的信息有误", errors=[FieldError("year", "请填写年度，如 2025")])
        rnd = monitoring.open_round(session=session, principal=principal, year=year, cutoff_date=cutoff)
    except ValidationFailed as exc:
        session.rollback()
        errors = field_errors(exc.errors).get(None, {})
        latest = monitoring.latest_year(session=session)
        return _index(request, principal, session, latest, _no_filters(), errors=errors, typed=typed, status_code=422)
    return see_other(request, f"/monitoring?year={rnd.year}")


def _no_filters() -> dict[str, Any]:
    return {"department_id": None, "unit_id": None, "light": None}


@router.post("/monitoring/rounds/{round_id:int}/close")
def close_round(request: Request, round_id: int, principal: PagePrincipal, session: SessionDep):
    """Close a round: the reports become read-only."""
    rnd = monitoring.close_round(session=session, principal=principal, round_id=round_id)
    return see_other(request, f"/monitoring?year={rnd.year}")


@router.get("/monitoring/export.xlsx")
def export(request: Request, principal: PagePrincipal, session: SessionDep):
    """The overview as it is filtered, as an xlsx workbook: by department, by unit, every project."""
    year = parse_year(request.query_params.get("year")) or monitoring.latest_year(session=session)
    if year is None:
        raise ValidationFailed("尚未开启任何年度的运行监控", errors=[FieldError("year", "请选择年度")])
    filters = _filters(request)
    view = monitoring.overview(session=session, principal=principal, year=year, **filters)
    audit.exported(session=session, actor=principal, what="/monitoring/export.xlsx", fmt="xlsx", filters=filters)
    body = monitoring_export.workbook(view)
    name = f"{year}年度绩效运行监控{'（红灯）' if filters['light'] == m.RED else ''}.xlsx"
    disposition = f"attachment; filename=\"monitoring.xlsx\"; filename*=UTF-8''{quote(name)}"
    return Response(body, media_type=XLSX, headers={"Content-Disposition": disposition})


# --- one project's monitoring form --------------------------------------------------------------


def context(line: ReportLine, principal, **extra: Any) -> dict[str, Any]:
    ctx = {
        **WORDS,
        **HELPERS,
        "r": line,
        "editable": monitoring.editable(line, principal),
        "rule": m.light_doc(line.thresholds),
        "errors": {},
        "typed": {},
        "saved": None,
    }
    ctx.update(extra)
    return ctx


@router.get("/monitoring/projects/{project_id:int}")
def project_page(request: Request, project_id: int, principal: PagePrincipal, session: SessionDep):
    """One project's monitoring form: 执行数 and each indicator's progress, with the lights."""
    line = monitoring.report_line(session=session, principal=principal, project_id=project_id)
    return render(request, FORM, context(line, principal), block="report")


def _fragments(request: Request, blocks: list[str], ctx: dict[str, Any], status_code: int = 200) -> Response:
    full = {"request": request, "principal": getattr(request.state, "principal", None), **ctx, "oob": True}
    response = templates.TemplateResponse(request, FORM, full, status_code=status_code, block_names=blocks)
    response.headers["Vary"] = "HX-Request"
    return response


def _save(request, project_id, principal, session, form, *, spent=UNSET, entries=None, blocks, key):
    try:
        line = monitoring.save(
            session=session,
            principal=principal,
            project_id=project_id,
            version=parse_version(form),
            spent=spent,
            entries=entries,
        )
    except ValidationFailed as exc:
        session.rollback()
        line = monitoring.report_line(session=session, principal=principal, project_id=project_id)
        typed = {None if key == "spent" else key: {k: v for k, v in form.items() if k != "version"}}
        ctx = context(line, principal, errors=field_errors(exc.errors), typed=typed, ind_id=key)
        if not wants_fragment(request):
            return render(request, FORM, ctx, status_code=422)
        return _fragments(request, blocks, ctx, 422)
    if not wants_fragment(request):
        return see_other(request, f"/monitoring/projects/{project_id}")
    return _fragments(request, blocks, context(line, principal, saved=key, ind_id=key))


@router.post("/monitoring/projects/{project_id:int}/spent")
def save_spent(request: Request, project_id: int, principal: PagePrincipal, session: SessionDep, form: FormFields):
    """Save 执行数 截至 the cut-off; answers the spending light and the project's lights, out of band."""
    return _save(
        request,
        project_id,
        principal,
        session,
        form,
        spent=form.get("spent", UNSET),
        blocks=["spending_cells", "companions"],
        key="spent",
    )


@router.post("/monitoring/projects/{project_id:int}/indicators/{indicator_id:int}")
def save_indicator(
    request: Request,
    project_id: int,
    indicator_id: int,
    principal: PagePrincipal,
    session: SessionDep,
    form: FormFields,
):
    """Save one indicator's progress (only the fields sent); answers its light and messages, out of band."""
    fields = {name: form[name] for name in ROW_FIELDS if name in form}
    return _save(
        request,
        project_id,
        principal,
        session,
        form,
        entries={indicator_id: fields},
        blocks=["row_cells", "companions"],
        key=indicator_id,
    )
