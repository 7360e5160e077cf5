"""A project's 自评报告 (issue 12 §3): the unit writes the narrative section by section; the figures
and tables come from the 自评表 (never typed twice); the report is printed as .docx and as PDF.

The document's structure is app.domain.report_document (shared with the 专项资金 report to come);
this module fills it from a project's evaluation and keeps the unit's text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from app.domain.report_document import NARRATIVE_KEYS, ReportDocument, Table, build_document
from app.domain.scoring import score_text
from app.models import EvaluationReport
from app.security import Principal
from app.services import attachments, audit, evaluations
from app.services.errors import Conflict, Problems
from app.services.evaluations import EvaluationView
from app.services.exports import actual_text
from app.sqltypes import utcnow

SIGN_OFF_FIELDS = ("filled_by", "phone", "report_date")
FIELDS = (*NARRATIVE_KEYS, *SIGN_OFF_FIELDS)
MAX_SECTION = 20000
MAX_LENGTHS = {"filled_by": 50, "phone": 40}
STALE = "报告已在别处保存过（例如另一个窗口），本次修改未保存：请刷新页面后再改"


@dataclass
class ReportView:
    ev: EvaluationView
    report: EvaluationReport  # not yet stored when id is None
    editable: bool
    evidence: tuple[tuple[str, ...], ...] = ()  # the 佐证材料清单 (attachments.evidence_rows)

    @property
    def version(self) -> int:
        return self.report.version


def _row(session: Session, evaluation_id: int) -> EvaluationReport:
    row = session.exec(select(EvaluationReport).where(EvaluationReport.evaluation_id == evaluation_id)).first()
    return row or EvaluationReport(evaluation_id=evaluation_id, version=0)


def view(*, session: Session, principal: Principal, evaluation_id: int) -> ReportView:
    """The report of an evaluation the caller may see (the 自评表's own tenancy rule)."""
    ev = evaluations.view(session=session, principal=principal, evaluation_id=evaluation_id)
    listing = attachments.evaluation_listing(session=session, principal=principal, evaluation_id=evaluation_id)
    return ReportView(ev, _row(session, evaluation_id), ev.editable, attachments.evidence_rows(listing))


def save(*, session: Session, principal: Principal, evaluation_id: int, version: int | None, fields: dict[str, str]):
    """Save the fields typed (any subset of FIELDS) while the 自评表 may be edited; 409 on a stale version."""
    ev = evaluations.view(session=session, principal=principal, evaluation_id=evaluation_id)
    # the 自评表's own rule (role, token scope, status, filing window): the report is written while it may be
    evaluations._check_editable(session, principal, ev.evaluation, ev.project)
    row = _row(session, evaluation_id)
    save_row(
        session=session,
        principal=principal,
        row=row,
        version=version,
        fields=fields,
        entity_type="self_evaluation",
        entity_id=evaluation_id,
    )
    return ReportView(ev, row, ev.editable)


def save_row(
    *,
    session: Session,
    principal: Principal,
    row: Any,
    version: int | None,
    fields: dict[str, str],
    entity_type: str,
    entity_id: int,
) -> Any:
    """Save typed fields into a report row (a project's or a fund's: the same columns); 409 when stale.

    The caller has checked that the report may be written. Only changed fields are written and
    audited; the version moves on by compare-and-set, so a concurrent save of the same version loses.
    """
    if version is None or version != row.version:
        raise Conflict(STALE)
    problems = Problems()
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, raw in fields.items():
        if name not in FIELDS:
            continue
        text = (raw or "").strip()
        value: Any = text or None
        limit = MAX_LENGTHS.get(name, MAX_SECTION)
        if len(text) > limit:
            problems.add(name, f"不能超过 {limit} 个字符")
            continue
        if name == "report_date" and text:
            try:
                value = dt.date.fromisoformat(text)
            except ValueError:
                problems.add(name, "日期应写作 YYYY-MM-DD，如 2026-03-31")
                continue
        if value != getattr(row, name):
            before[name], after[name] = _plain(getattr(row, name)), _plain(value)
            setattr(row, name, value)
    problems.raise_if_any("报告内容有误，请按提示修改")
    if after:
        claimed = row.version
        row.version = claimed + 1
        row.updated_at = utcnow()
        row.updated_by_id = principal.user_id
        if row.id is None:
            session.add(row)
        else:  # compare-and-set: a concurrent save of the same version loses with a 409
            table = type(row).__table__
            done = session.connection().execute(
                sa.update(table).where(table.c.id == row.id, table.c.version == claimed).values(version=claimed + 1)
            )
            if done.rowcount != 1:
                session.rollback()
                raise Conflict(STALE)
        audit.record(
            session=session,
            actor=principal,
            action="report.save",
            entity_type=entity_type,
            entity_id=entity_id,
            before=before,
            after=after,
        )
        session.commit()
        session.refresh(row)
    return row


def sign_offs(*, session: Session, evaluation_ids: list[int]) -> dict[int, EvaluationReport]:
    """The reports (for their 填表人, 联系电话, 日期) of evaluations already shown to the caller."""
    if not evaluation_ids:
        return {}
    rows = session.exec(select(EvaluationReport).where(EvaluationReport.evaluation_id.in_(evaluation_ids))).all()
    return {row.evaluation_id: row for row in rows}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


# --- the document ------------------------------------------------------------------------------


def _m(value: Decimal | None) -> str:
    if value is None:
        return "—"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def tables(ev: EvaluationView) -> dict[str, list[Table]]:
    """The report's generated tables, from the 自评表: funds, scores by category, indicators."""
    project, s = ev.project, ev.evaluation
    places = ev.places
    basic = Table(
        "表1 项目基本情况",
        ("项目名称", "主管部门", "实施单位", "年度", "全年预算数（万元）", "全年执行数（万元）", "预算执行率"),
        (
            (
                project.name,
                ev.department_name,
                ev.unit.name,
                str(project.year),
                _m(project.budget),
                _m(project.spent),
                "—" if s.execution_rate is None else f"{_m(s.execution_rate)}%",
            ),
        ),
    )
    score_rows: list[tuple[str, ...]] = [
        ("预算执行率", score_text(ev.execution_weight, places) or "", score_text(s.execution_score, places) or "—")
    ]
    for group in ev.groups:
        got = [i.score_override if i.score_override is not None else i.unit_score for i in group.indicators]
        known = [g for g in got if g is not None]
        subtotal = sum(known, Decimal(0)) if known else None
        score_rows.append((group.name, score_text(group.points, places) or "", score_text(subtotal, places) or "—"))
    points = ev.execution_weight + sum((g.points for g in ev.groups), Decimal(0))
    score_rows.append(("合计", score_text(points, places) or "", score_text(s.total_score, places) or "—"))
    scores = Table(
        "表2 自评得分",
        ("一级指标", "分值", "得分"),
        tuple(score_rows) + ((f"评价等级：{s.grade or '—'}", "", ""),),
    )
    indicator_rows = []
    for group in ev.groups:
        for ind in group.indicators:
            final = ind.score_override if ind.score_override is not None else ind.unit_score
            indicator_rows.append(
                (
                    group.name,
                    ind.level2_name,
                    ind.name,
                    ind.annual_target or "",
                    actual_text(ind),
                    score_text(ind.weight, places) or "",
                    score_text(final, places) or "—",
                    ind.deviation_reason or "",
                )
            )
    performance = Table(
        "表3 绩效目标完成情况",
        ("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因"),
        tuple(indicator_rows),
    )
    return {"basic": [basic], "scores": [scores], "performance": [performance]}


def evaluation_form_tables(ev: EvaluationView, performance: Table) -> list[Table]:
    """The project's 自评表, attached to its report: funds, the year's goal, the indicators."""
    project, s = ev.project, ev.evaluation
    places = ev.places
    funds = Table(
        "项目资金（万元）",
        ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"),
        (
            (
                _m(project.initial_budget),
                _m(project.budget),
                _m(project.spent),
                score_text(ev.execution_weight, places) or "",
                "—" if s.execution_rate is None else f"{_m(s.execution_rate)}%",
                score_text(s.execution_score, places) or "—",
            ),
        ),
    )
    goal = Table("年度总体目标", ("预期目标", "实际完成情况"), ((project.annual_goal or "", s.goal_completion or ""),))
    points = score_text(ev.execution_weight + sum((g.points for g in ev.groups), Decimal(0)), places) or ""
    total = ("总分", "", "", "", "", points, score_text(s.total_score, places) or "—", f"自评等级：{s.grade or '—'}")
    indicators = Table("绩效指标", performance.header, (*performance.rows, total))
    return [funds, goal, indicators]


def document(rv: ReportView) -> ReportDocument:
    """The project's report: its sections, the unit's text in them, the tables from the 自评表."""
    ev, row = rv.ev, rv.report
    narratives = {key: getattr(row, key) or "" for key in NARRATIVE_KEYS}
    sign_off = {
        "填报单位（盖章）": ev.unit.name,
        "填表人": row.filled_by or "",
        "联系电话": row.phone or "",
        "日期": row.report_date.isoformat() if row.report_date else "",
    }
    generated = tables(ev)
    return build_document(
        title=f"{ev.project.year}年度项目支出绩效自评报告",
        subtitle=ev.project.name,
        narratives=narratives,
        tables=generated,
        sign_off=sign_off,
        attachments=[
            ("项目支出绩效自评表", evaluation_form_tables(ev, generated["performance"][0])),
            *evidence_attachment(rv.evidence),
        ],
    )


def evidence_attachment(rows: tuple[tuple[str, ...], ...]) -> list[tuple[str, list[Table]]]:
    """The 佐证材料清单 that travels with a report, when anything was attached."""
    if not rows:
        return []
    return [(attachments.EVIDENCE_TITLE, [Table(attachments.EVIDENCE_TITLE, attachments.EVIDENCE_HEADER, rows)])]


def docx(rv: ReportView) -> bytes:
    from app.services.report_docx import write_docx

    return write_docx(document(rv))


def pdf(html: str) -> bytes:
    """The print view's HTML as a PDF (WeasyPrint: no browser on the server); A4 portrait by its CSS."""
    import weasyprint

    from app.settings import ROOT

    # the print view links its stylesheet relative to app/ for the PDF: read from disk, nothing fetched
    return weasyprint.HTML(string=html, base_url=str(ROOT / "app") + "/").write_pdf()
