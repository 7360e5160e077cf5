"""A 专项资金's 自评报告 (issue 12 §3) with its 自评表 and 评分表 (Guangdong's 两表一报告).

The same document as a project's report (app.domain.report_document, written as .docx by
app.services.report_docx and as PDF from the same print view): the fund's evaluator writes the
narrative section by section (saved by app.services.reports.save_row, the same compare-and-set and
audit); every figure and table comes from the fund — its tree, its computed score and deductions,
its 绩效目标 indicators — and is never typed twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, select

from app.domain import evaluation as lifecycle
from app.domain.funds import (
    FIGURE_LABELS,
    FUND_TEMPLATE_TITLES,
    IMPLEMENTATION_LABELS,
    METHOD_LABELS,
    NODE_KIND_LABELS,
    RECIPIENT_KIND_LABELS,
    ItemScore,
)
from app.domain.report_document import NARRATIVE_KEYS, ReportDocument, Table, build_document, money_text
from app.domain.scoring import score_text
from app.models import FundReport
from app.security import Principal
from app.services import attachments, funds, reports
from app.services.errors import NotFound

HEADINGS = {"performance": "专项资金使用绩效", "problems": "专项资金使用绩效存在的问题"}
FORM_TITLE = "专项资金绩效自评表"
SCORE_SHEET_TITLE = "专项资金绩效评分表"


@dataclass
class FundReportView:
    fv: funds.FundView
    report: FundReport  # not yet stored when id is None
    editable: bool
    evidence: tuple[tuple[str, ...], ...] = ()  # the 佐证材料清单 (attachments.evidence_rows)

    @property
    def version(self) -> int:
        return self.report.version


def _row(session: Session, fund_id: int) -> FundReport:
    row = session.exec(select(FundReport).where(FundReport.fund_id == fund_id)).first()
    return row or FundReport(fund_id=fund_id, version=0)


def view(*, session: Session, principal: Principal, fund_id: int) -> FundReportView:
    """The report of a fund the caller evaluates or reviews (a recipient unit sees no score: not found)."""
    fv = funds.fund_view(session=session, principal=principal, fund_id=fund_id)
    if fv.evaluation is None:
        raise NotFound(funds.NOT_FOUND)
    listing = attachments.fund_listing(session=session, principal=principal, fund_id=fund_id)
    return FundReportView(fv, _row(session, fund_id), fv.editable, attachments.evidence_rows(listing))


def save(*, session: Session, principal: Principal, fund_id: int, version: int | None, fields: dict[str, str]):
    """Save the fields typed while the fund's evaluation may be edited (as its tree); 409 when stale."""
    fund_view = view(session=session, principal=principal, fund_id=fund_id)
    funds.editable_fund(session=session, principal=principal, fund_id=fund_id)
    row = reports.save_row(
        session=session,
        principal=principal,
        row=fund_view.report,
        version=version,
        fields=fields,
        entity_type="special_fund",
        entity_id=fund_id,
    )
    return FundReportView(fund_view.fv, row, fund_view.editable)


# --- the tables --------------------------------------------------------------------------------


def _m(value: Decimal | None) -> str:
    return money_text(value) if value is not None else "—"


def _rate(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


def _indent(depth: int, name: str) -> str:
    return "　" * depth + name


def _kind(node) -> str:
    if node.kind == "recipient":
        return RECIPIENT_KIND_LABELS[node.recipient_kind or "unit"]
    return NODE_KIND_LABELS[node.kind]


def basic_table(fv: funds.FundView) -> Table:
    f, fund = fv.figures, fv.fund
    rows = [
        ("专项资金名称", fund.name),
        ("年度", str(fund.year)),
        ("主管部门", fv.department_name),
        ("专项资金“财政事权”名称", fund.fiscal_power or "—"),
        ("对应“政策任务”数量", "—" if fund.policy_tasks is None else str(fund.policy_tasks)),
        ("本次评价涉及资金（万元）", _m(f.allocated)),
        ("实际支出（万元）", _m(f.spent)),
        ("结余（万元）", _m(f.balance)),
        ("资金支出率", _rate(f.execution_rate)),
        ("资金到位率", _rate(f.arrival_rate)),
    ]
    return Table("表1 专项资金基本情况", ("项目", "内容"), tuple(rows))


def allocation_table(fv: funds.FundView) -> Table:
    """处室 / 专题 / 资金安排: how the money was split and what it was for (the goals as written)."""
    rows = tuple(
        (
            _indent(v.depth, v.node.name),
            _kind(v.node),
            _m(v.node.allocated),
            IMPLEMENTATION_LABELS.get(v.node.implementation or "", ""),
            v.node.arrival_dates or "",
            v.node.purpose or "",
        )
        for v in fv.nodes
        if v.node.kind != "recipient"
    )
    return Table(
        "表2 资金分配",
        ("处室 / 专题 / 资金安排", "类型", "下达金额（万元）", "实施方式", "到位时间", "用途及绩效目标"),
        rows,
    )


def _method_text(item: ItemScore, places: int) -> str:
    if item.method == "computed" and item.figure:
        text = f"{METHOD_LABELS[item.method]}：{FIGURE_LABELS.get(item.figure, item.figure)}"
        if item.rate is not None:
            text += f" {item.rate}% × {score_text(item.points, places)}"
        return text
    return METHOD_LABELS.get(item.method, item.method)


def _deduction_text(fv: funds.FundView, code: str) -> str:
    names = {v.node.id: v.node.name for v in fv.nodes}
    out = []
    for d in fv.deductions:
        if d.item_code != code:
            continue
        about = "、".join(x for x in (d.indicator, names.get(d.node_id) if d.node_id else None) if x)
        out.append(f"扣{money_text(d.points)}分：{d.reason}" + (f"（{about}）" if about else ""))
    return "；".join(out)


def score_rows(fv: funds.FundView, *, with_method: bool) -> tuple[tuple[str, ...], ...]:
    """Category and item rows (parts indented), each deduction with its reason, the total and grade."""
    score = fv.score
    if score is None:
        return ()
    places = score.places

    def sc(value: Decimal | None) -> str:
        return score_text(value, places) or "—"

    rows: list[tuple[str, ...]] = []

    def item_row(item: ItemScore, depth: int) -> None:
        deducted = sum((d.points for d in fv.deductions if d.item_code == item.code), Decimal(0))
        cells = [_indent(depth, item.name), sc(item.points), sc(item.score)]
        if with_method:
            cells.append(_method_text(item, places))
        else:
            cells.append(money_text(deducted) if deducted else "")
        cells.append(_deduction_text(fv, item.code))
        rows.append(("", *cells))
        for part in item.parts:
            item_row(part, depth + 1)

    for category in score.categories:
        rows.append((category.name, "", sc(category.points), sc(category.score), "", ""))
        for item in category.items:
            item_row(item, 0)
    points = sum((c.points for c in score.categories), Decimal(0))
    total = sc(score.total) if score.complete else "—"
    rows.append(("合计", "", sc(points), total, "", f"评价等级：{score.grade or '—'}"))
    return tuple(rows)


def scores_table(fv: funds.FundView) -> Table:
    return Table(
        "表3 自评得分",
        ("一级指标", "二级指标", "分值", "得分", "计分方法", "扣分及理由"),
        score_rows(fv, with_method=True),
    )


def divisions_table(fv: funds.FundView) -> Table | None:
    rows = tuple(
        (d.node.name, money_text(d.node.own_score), d.node.own_score_note or "")
        for d in fv.divisions()
        if d.node.own_score is not None
    )
    if not rows:
        return None
    return Table("表4 各处室自评得分（处室自己的评价，不计入总分）", ("处室", "自评得分", "说明"), rows)


def spending_table(fv: funds.FundView) -> Table:
    """支出情况 per 处室 / 专题 / 资金安排 / 用款单位: 下达, 实际支出 (summed up the tree), 结余, 支出率."""
    rows = [
        (
            _indent(v.depth, v.node.name),
            _kind(v.node),
            _m(v.figures.allocated),
            _m(v.figures.spent),
            _m(v.figures.balance),
            _rate(v.figures.execution_rate),
        )
        for v in fv.nodes
    ]
    f = fv.figures
    rows.append(("合计", "", _m(f.allocated), _m(f.spent), _m(f.balance), _rate(f.execution_rate)))
    return Table(
        "表5 专项资金支出情况",
        ("处室 / 专题 / 资金安排 / 用款单位", "类型", "下达金额（万元）", "实际支出（万元）", "结余（万元）", "支出率"),
        tuple(rows),
    )


def goals_table(fv: funds.FundView, indicators: list[dict] | None = None) -> Table:
    """绩效目标完成情况: the fund's 绩效目标 indicators with their actuals and scores."""
    rows = tuple(
        (i["level1"], i["level2"], i["name"], i["target"], i["actual"] or "—", i["item"], i["score"] or "—")
        for i in indicators or ()
    )
    if not rows:
        rows = (("未录入绩效指标", "", "", "", "", "", ""),)
    return Table(
        "表6 绩效目标完成情况",
        ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "计入项目", "得分"),
        rows,
    )


def checks_table(fv: funds.FundView) -> Table | None:
    """What the data itself shows wrong: declared figures that do not recompute, flags on nodes."""
    labels = lifecycle.flag_labels()
    rows: list[tuple[str, ...]] = []
    for d in fv.declared:
        if d.differs and d.computed is not None:
            recomputed = d.computed.quantize(d.declared)
            rows.append(("申报数", d.label, f"报告申报 {d.declared}，按资金分配重新计算为 {recomputed}（保留申报数）"))
    for flag in fv.figures.flags:
        rows.append(("专项资金", "合计", labels.get(flag, flag)))
    for v in fv.nodes:
        for flag in v.figures.flags:
            text = labels.get(flag, flag)
            if flag == "allocation_mismatch":
                text += f"：下级合计 {_m(v.figures.children_allocated)}，差 {_m(v.figures.allocation_difference)}"
            rows.append((_kind(v.node), v.node.name, text))
    if not rows:
        return None
    return Table("表7 数据核对提示", ("对象", "名称", "提示"), tuple(rows))


def tables(fv: funds.FundView, indicators: list[dict] | None = None) -> dict[str, list[Table]]:
    divisions, checks = divisions_table(fv), checks_table(fv)
    return {
        "basic": [basic_table(fv), allocation_table(fv)],
        "scores": [scores_table(fv)] + ([divisions] if divisions else []),
        "performance": [spending_table(fv), goals_table(fv, indicators)],
        "problems": [checks] if checks else [],
    }


def form_tables(fv: funds.FundView, indicators: list[dict] | None = None) -> list[Table]:
    """The fund's 自评表: the fund, its money, its scores by category, its indicators."""
    f, fund, score = fv.figures, fv.fund, fv.score
    places = score.places if score else 1
    info = Table(
        "基本情况",
        ("专项资金名称", "年度", "主管部门", "评分模板"),
        (
            (
                fund.name,
                str(fund.year),
                fv.department_name,
                FUND_TEMPLATE_TITLES.get(fund.template_name, fund.template_name),
            ),
        ),
    )
    money = Table(
        "资金情况（万元）",
        ("资金总额", "到位金额", "实际支出", "结余", "资金到位率", "资金支出率"),
        ((_m(f.allocated), _m(f.arrived), _m(f.spent), _m(f.balance), _rate(f.arrival_rate), _rate(f.execution_rate)),),
    )
    category_rows = tuple(
        (c.name, score_text(c.points, places) or "", score_text(c.score, places) or "—")
        for c in (score.categories if score else ())
    )
    total = score_text(score.total, places) if score and score.complete else "—"
    points = sum((c.points for c in score.categories), Decimal(0)) if score else Decimal(0)
    categories = Table(
        "自评得分",
        ("一级指标", "分值", "得分"),
        (
            *category_rows,
            ("总分", score_text(points, places) or "", total or "—"),
            ("自评等级", "", (score.grade if score else None) or "—"),
        ),
    )
    goals = goals_table(fv, indicators)
    return [info, money, categories, Table("绩效指标", goals.header, goals.rows)]


def score_sheet(fv: funds.FundView) -> list[Table]:
    """The 评分表: every item with its maximum, its score, the points deducted and the reasons."""
    return [
        Table(
            "评分明细",
            ("一级指标", "二级指标", "分值", "得分", "扣分", "扣分理由"),
            score_rows(fv, with_method=False),
        )
    ]


def document(rv: FundReportView, indicators: list[dict] | None = None) -> ReportDocument:
    """The fund's report: its sections, the evaluator's text, the tables and 两表 from the data."""
    fv, row = rv.fv, rv.report
    narratives = {key: getattr(row, key) or "" for key in NARRATIVE_KEYS}
    sign_off = {
        "填报单位（盖章）": fv.department_name,
        "填表人": row.filled_by or "",
        "联系电话": row.phone or "",
        "日期": row.report_date.isoformat() if row.report_date else "",
    }
    return build_document(
        title=f"{fv.fund.year}年度专项资金项目绩效自评报告",
        subtitle=fv.fund.name,
        narratives=narratives,
        tables=tables(fv, indicators),
        sign_off=sign_off,
        attachments=[
            (FORM_TITLE, form_tables(fv, indicators)),
            (SCORE_SHEET_TITLE, score_sheet(fv)),
            *reports.evidence_attachment(rv.evidence),
        ],
        headings=HEADINGS,
        sign_attachments=True,
    )


def docx(rv: FundReportView, indicators: list[dict] | None = None) -> bytes:
    from app.services.report_docx import write_docx

    return write_docx(document(rv, indicators))


def indicator_rows(session: Session, fv: funds.FundView) -> list[dict]:
    """The fund's 绩效目标 indicators as the report prints them: target, actual, the item, the score."""
    from app.domain.categories import LEVEL1_BY_SLUG, LEVEL2_BY_SLUG
    from app.domain.funds import _walk
    from app.domain.scoring import QUALITATIVE_LABELS

    scored: dict[str, Decimal | None] = {}
    items: dict[str, str] = {}
    places = fv.score.places if fv.score else 2
    for category in fv.score.categories if fv.score else ():
        for top in category.items:
            for item in _walk(top):
                items[item.code] = item.name
                for result in item.indicators:
                    scored[result.key] = result.final_score
    out = []
    for row in funds.fund_indicators(session, fv.fund.id):  # type: ignore[arg-type]
        level1 = LEVEL1_BY_SLUG.get(row.level1)
        level2 = LEVEL2_BY_SLUG.get(row.level2 or "")
        actual = row.actual or (QUALITATIVE_LABELS.get(row.qualitative_level or "") if row.qualitative_level else "")
        out.append(
            {
                "id": row.id,
                "level1": level1.name if level1 else row.level1,
                "level2": level2.name if level2 else "",
                "name": row.name,
                "target": row.annual_target,
                "actual": actual or "",
                "item": items.get(row.item_code or "", "不计分（列示）"),
                "score": score_text(scored.get(str(row.id)), places) if row.item_code else "",
                "row": row,
            }
        )
    return out
