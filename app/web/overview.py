"""The bureau's overview page: per department and unit, for a year, submission progress, score
distribution, grade counts and execution rates — as server-side SVG (no JS, no CDN) beside the tables,
each row linking to the filtered review queue. Figures come from app.services.queries."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request

from app.db import SessionDep
from app.domain import evaluation as lifecycle
from app.domain.evaluation import HANDED_IN_LABEL, STATUS, STATUS_LABELS, STATUS_ORDER
from app.domain.scoring import NATIONAL_2020, TemplateSettings
from app.services import queries, reviews, templates
from app.services.scope import require_role
from app.web.deps import PagePrincipal
from app.web.render import render
from app.web.toolkit import money, parse_year

router = APIRouter()

INK, MUTED, LINE = "#1f2933", "#616e7c", "#d9e2ec"
LABEL_WIDTH, BAR_WIDTH, ROW_HEIGHT = 190, 300, 24
MAX_ROWS = 40  # charts beyond this many rows become unreadable; the table keeps every row


@dataclass
class Shape:
    """One SVG element: its tag, presentation attributes, text and hover title."""

    tag: str
    attrs: dict[str, Any]
    text: str | None = None
    title: str | None = None


@dataclass
class Chart:
    title: str
    width: int
    height: int
    shapes: list[Shape] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (colour, label)
    note: str | None = None


def _short(name: str, limit: int = 13) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _label(shapes: list[Shape], y: float, name: str) -> None:
    shapes.append(
        Shape(
            "text",
            {"x": LABEL_WIDTH - 6, "y": y + ROW_HEIGHT / 2 + 4, "text-anchor": "end", "font-size": 12, "fill": INK},
            _short(name),
            name,
        )
    )


def progress_chart(rows: list[queries.GroupStats], title: str) -> Chart:
    """Stacked bars: how many projects are in each status, per department or unit."""
    rows = rows[:MAX_ROWS]
    chart = Chart(
        title,
        LABEL_WIDTH + BAR_WIDTH + 60,
        max(1, len(rows)) * ROW_HEIGHT + 10,
        legend=[(STATUS[s].color, STATUS_LABELS[s]) for s in STATUS_ORDER],
    )
    for n, row in enumerate(rows):
        y = 5 + n * ROW_HEIGHT
        _label(chart.shapes, y, row.name)
        x = float(LABEL_WIDTH)
        for status in STATUS_ORDER:
            count = row.by_status.get(status, 0)
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
                        "fill": STATUS[status].color,
                    },
                    title=f"{row.name}：{STATUS_LABELS[status]} {count} 个",
                )
            )
            x += width
        chart.shapes.append(
            Shape(
                "text",
                {"x": LABEL_WIDTH + BAR_WIDTH + 6, "y": y + ROW_HEIGHT / 2 + 4, "font-size": 12, "fill": MUTED},
                f"{row.submitted}/{row.projects}",
                f"{HANDED_IN_LABEL} {row.submitted} / 项目 {row.projects}",
            )
        )
    approved = "、".join(STATUS_LABELS[s] for s in lifecycle.APPROVED)
    chart.note = f"右侧数字：{HANDED_IN_LABEL}（含{approved}）/ 项目数"
    return chart


def _columns(title: str, bars: list[tuple[str, int, str, str]]) -> Chart:
    """Vertical bars (label, count, colour, hover title) with the count above each."""
    width, height, top, bottom = 36, 140, 18, 22
    gap = 10
    chart = Chart(title, 20 + len(bars) * (width + gap), height + top + bottom)
    peak = max((count for _, count, _, _ in bars), default=0) or 1
    chart.shapes.append(
        Shape("line", {"x1": 10, "y1": top + height, "x2": chart.width - 5, "y2": top + height, "stroke": LINE})
    )
    for n, (label, count, colour, hover) in enumerate(bars):
        x = 15 + n * (width + gap)
        h = round(height * count / peak, 2)
        chart.shapes.append(
            Shape(
                "rect",
                {"x": x, "y": round(top + height - h, 2), "width": width, "height": h, "fill": colour},
                title=hover,
            )
        )
        chart.shapes.append(
            Shape(
                "text",
                {
                    "x": x + width / 2,
                    "y": round(top + height - h - 4, 2),
                    "text-anchor": "middle",
                    "font-size": 11,
                    "fill": INK,
                },
                str(count),
            )
        )
        chart.shapes.append(
            Shape(
                "text",
                {"x": x + width / 2, "y": top + height + 15, "text-anchor": "middle", "font-size": 11, "fill": MUTED},
                label,
            )
        )
    return chart


def distribution_chart(rows: list[queries.GroupStats], settings: TemplateSettings = NATIONAL_2020) -> Chart:
    """Histogram of total scores (ten-point bins) over the rows' submitted evaluations."""
    counts: dict[tuple[Decimal, Decimal], int] = {}
    for row in rows:
        for lo, hi, count in row.score_distribution:
            counts[(lo, hi)] = counts.get((lo, hi), 0) + count
    best, best_low = settings.grade_thresholds[0]
    pass_low = settings.grade_thresholds[-2][1] if len(settings.grade_thresholds) > 1 else best_low
    bars = []
    for (lo, hi), count in counts.items():
        closing = "]" if hi == 100 else ")"
        colour = "#2f9e57" if lo >= best_low else "#1d4ed8" if lo >= pass_low else "#b42318"
        bars.append((f"{lo}", count, colour, f"[{lo}, {hi}{closing} 分：{count} 个"))
    chart = _columns(f"总分分布（{HANDED_IN_LABEL}的自评）", bars)
    chart.note = f"每档 10 分，标注为下限；{lifecycle.grade_ranges(settings)[best].lstrip('≥')} 分以上为“{best}”"
    return chart


def grade_chart(rows: list[queries.GroupStats], settings: TemplateSettings = NATIONAL_2020) -> Chart:
    """Counts of each grade (national: 优 / 良 / 中 / 差) over the rows' submitted evaluations."""
    colors = lifecycle.grade_colors(settings)
    totals = {g: sum(row.grades.get(g, 0) for row in rows) for g in lifecycle.grades(settings)}
    return _columns("等级分布", [(g, n, colors[g], f"{g}：{n} 个") for g, n in totals.items()])


def execution_chart(rows: list[queries.GroupStats], title: str, settings: TemplateSettings = NATIONAL_2020) -> Chart:
    """执行率 per department or unit, with the template's low and high marks (90% and 100%; scale to 120%)."""
    rows = rows[:MAX_ROWS]
    scale, bar_width = Decimal(120), 400
    low, high = settings.execution_low_below, settings.execution_over_above
    low_text, high_text = lifecycle.number_text(low), lifecycle.number_text(high)
    chart = Chart(
        title,
        LABEL_WIDTH + bar_width + 20,
        max(1, len(rows)) * ROW_HEIGHT + 26,
        legend=[("#2f9e57", f"{low_text}%–{high_text}%"), ("#a35f00", f"低于 {low_text}% 或高于 {high_text}%")],
    )
    for n, row in enumerate(rows):
        y = 5 + n * ROW_HEIGHT
        _label(chart.shapes, y, row.name)
        rate = row.execution_rate
        if rate is None:
            chart.shapes.append(
                Shape(
                    "text",
                    {"x": LABEL_WIDTH + 4, "y": y + ROW_HEIGHT / 2 + 4, "font-size": 12, "fill": MUTED},
                    "无执行数",
                )
            )
            continue
        width = round(float(min(rate, scale) / scale * bar_width), 2)
        colour = "#2f9e57" if low <= rate <= high else "#a35f00"
        chart.shapes.append(
            Shape(
                "rect",
                {"x": LABEL_WIDTH, "y": y + 3, "width": width, "height": ROW_HEIGHT - 6, "fill": colour},
                title=f"{row.name}：执行率 {rate}%",
            )
        )
        inside = width > 70  # the figure sits inside the bar's end, clear of the 90% / 100% marks
        chart.shapes.append(
            Shape(
                "text",
                {
                    "x": round(LABEL_WIDTH + width + (-5 if inside else 5), 2),
                    "y": y + ROW_HEIGHT / 2 + 4,
                    "font-size": 12,
                    "text-anchor": "end" if inside else "start",
                    "fill": "#ffffff" if inside else INK,
                },
                f"{rate}%",
            )
        )
    bottom = 5 + max(1, len(rows)) * ROW_HEIGHT
    for mark in (low, high):
        x = round(LABEL_WIDTH + float(mark / scale) * bar_width, 2)
        chart.shapes.append(
            Shape("line", {"x1": x, "y1": 2, "x2": x, "y2": bottom, "stroke": INK, "stroke-dasharray": "3 3"})
        )
        chart.shapes.append(
            Shape(
                "text",
                {"x": x, "y": bottom + 15, "text-anchor": "middle", "font-size": 11, "fill": MUTED},
                f"{lifecycle.number_text(mark)}%",
            )
        )
    return chart


def _all(fetch, **kw) -> list[queries.GroupStats]:
    """Every row of a keyset-paged statistics query."""
    rows: list[queries.GroupStats] = []
    after = None
    while True:
        got = fetch(after=after, limit=500, **kw)
        rows += got
        if len(got) < 500:
            return rows
        after = got[-1].id


@router.get("/overview")
def overview_page(request: Request, principal: PagePrincipal, session: SessionDep):
    """Per department and unit for a year: progress, scores, grades, execution — charts beside tables."""
    require_role(principal, "department", "finance", "admin")
    year = parse_year(request.query_params.get("year")) or reviews.default_year(session=session, principal=principal)
    filters = queries.ScopeFilters(year=year)
    common = {"session": session, "principal": principal, "filters": filters}
    units = sorted(_all(queries.unit_stats, **common), key=lambda r: (r.department_name or "", r.name))
    departments = sorted(_all(queries.department_stats, **common), key=lambda r: r.name)
    options = reviews.queue_options(session=session, principal=principal)
    # 待审核 is what waits for the viewer (as the queue's default), per unit and summed per department.
    by_unit = {
        u.id: reviews.awaiting_count(
            principal, u.by_status, direct=reviews.reports_directly(u.name, u.department_id, u.department_name)
        )
        for u in units
    }
    awaiting = {
        "unit": by_unit,
        "department": {d.id: sum(by_unit[u.id] for u in units if u.department_id == d.id) for d in departments},
    }
    # the thresholds of the template the bureau chose for the year (national-2020 if none)
    settings = templates.settings_of(templates.template_for(session=session, year=year))
    words = {
        "waiting": lifecycle.QUEUE_DEFAULT_STATUS,
        "sent_back": lifecycle.SENT_BACK[0],
        "approved_codes": lifecycle.APPROVED,
        "last": STATUS_ORDER[0],
        "grades": lifecycle.grades(settings),
        "execution_low": settings.execution_low_below,
    }
    totals = {
        "projects": sum(r.projects for r in units),
        "handed_in": sum(r.submitted for r in units),
        "approved_any": sum(r.approved for r in units),
        "last": sum(r.by_status.get(STATUS_ORDER[0], 0) for r in units),
    }
    charts = {
        "department_progress": progress_chart(departments, "各主管部门填报进度"),
        "unit_progress": progress_chart(units, "各单位填报进度"),
        "distribution": distribution_chart(units, settings),
        "grades": grade_chart(units, settings),
        "department_execution": execution_chart(departments, "各主管部门预算执行率", settings),
        "unit_execution": execution_chart(units, "各单位预算执行率", settings),
    }
    return render(
        request,
        "overview/index.html",
        {
            "year": year,
            "years": options.years,
            "units": units,
            "departments": departments,
            "charts": charts,
            "totals": totals,
            "W": words,
            "awaiting": awaiting,
            "MAX_ROWS": MAX_ROWS,
            "money": money,
        },
    )
