"""The history of a self-evaluation (and its project) in words people read: who, when, what,
the status before and after, and each change spelled out. Read by the review pages and both
JSON faces, so that the API has one history event, not two."""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from app.domain import evaluation as lifecycle
from app.domain.evaluation import LEVEL_LABELS, ROLE_LABELS, STATUS_LABELS
from app.models import AuditEvent, Indicator, SelfEvaluation, User
from app.services.prebuilt import Prebuilt


@dataclass
class HistoryEntry:
    """One recorded transition or change of an evaluation."""

    id: int
    at: datetime
    actor: str
    role: str | None
    action: str
    before: dict | None
    after: dict | None
    note: str | None
    details: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict, repr=False)  # "indicator:<id>" → its name (shared)

    @property
    def action_label(self) -> str:
        return lifecycle.history_label(self.action, (self.after or {}).get("status"))

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role or "", "")

    @property
    def status_before(self) -> str | None:
        return (self.before or {}).get("status")

    @property
    def status_after(self) -> str | None:
        return (self.after or {}).get("status")


def evaluation_history(session: Session, evaluation_id: int) -> list[HistoryEntry]:
    """Every recorded event of one evaluation, oldest first (the caller checked it may see it)."""
    where = sa.and_(AuditEvent.entity_type == "self_evaluation", AuditEvent.entity_id == evaluation_id)
    return describe(session, where)


def target_table_history(session: Session, project_id: int) -> list[HistoryEntry]:
    """Every recorded change of a project's 绩效目标表 (its fields, its rows, its status), oldest first
    (the caller checked it may see the project)."""
    rows = select(Indicator.id).where(Indicator.project_id == project_id)
    where = sa.or_(
        sa.and_(AuditEvent.entity_type == "project", AuditEvent.entity_id == project_id),
        sa.and_(AuditEvent.entity_type == "indicator", AuditEvent.entity_id.in_(rows)),
    )
    return describe(session, where)


def fund_history(session: Session, fund_id: int) -> list[HistoryEntry]:
    """Every recorded change of a 专项资金 — its fields, each node's figures (from what to what), the
    deductions, the evaluation's transitions, the report — oldest first (the caller may see the fund)."""
    where = sa.or_(
        AuditEvent.stream == f"special_fund:{fund_id}",
        sa.and_(AuditEvent.entity_type == "special_fund", AuditEvent.entity_id == fund_id),
    )
    return describe(session, where)


# The columns a history entry is made of (not the entity: a history is read on every project read).
_EVENT_COLUMNS = (
    AuditEvent.id,
    AuditEvent.at,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.entity_type,
    AuditEvent.entity_id,
    AuditEvent.before,
    AuditEvent.after,
    AuditEvent.note,
    User.display_name,
    User.role,
)


def _events(where: sa.ColumnElement[bool]) -> sa.Select:
    return (
        select(*_EVENT_COLUMNS)
        .select_from(AuditEvent)
        .outerjoin(User, User.id == AuditEvent.user_id)
        .where(where)
        .order_by(AuditEvent.at, AuditEvent.id)
    )


def describe(session: Session, where: sa.ColumnElement[bool]) -> list[HistoryEntry]:
    """The audit events matching `where`, oldest first, in the history's words."""
    rows = session.execute(_events(where)).all()
    names = _indicator_names(session, {e.entity_id for e in rows if e.entity_type == "self_evaluation"})
    return _entries(rows, names)


# A project's own events and its evaluation's (none bound: the project has no evaluation), built once.
_PROJECT_EVENTS = Prebuilt(
    _events(
        sa.or_(
            sa.and_(AuditEvent.entity_type == "project", AuditEvent.entity_id == sa.bindparam("project_id")),
            sa.and_(
                AuditEvent.entity_type == "self_evaluation",
                AuditEvent.entity_id == sa.bindparam("evaluation_id", type_=sa.Integer),
            ),
        )
    )
)
# its rows by their columns' names, as `describe` reads them
_Event = namedtuple("_Event", [c.key for c in _EVENT_COLUMNS])


def describe_project(
    session: Session, *, project_id: int, evaluation_id: int | None, names: dict[str, str]
) -> list[HistoryEntry]:
    """What `describe` answers for a project's own events and its evaluation's, in one statement (run on
    the driver: prebuilt.py): the caller has read the project's indicators, whose names
    ("indicator:<id>" → name) the evaluation's events mention."""
    _, rows = _PROJECT_EVENTS.rows(session.connection(), {"project_id": project_id, "evaluation_id": evaluation_id})
    return _entries([_Event._make(r) for r in rows], names) if rows else []


def _entries(rows, names: dict[str, str]) -> list[HistoryEntry]:
    return [
        HistoryEntry(
            id=event.id,
            at=event.at,
            actor=event.display_name or event.actor,
            role=event.role,
            action=event.action,
            before=event.before,
            after=event.after,
            note=event.note,
            details=_details(event, names),
            names=names,
        )
        for event in rows
    ]


FIELD_LABELS = {
    "name": "名称",
    "period_goal": "实施周期目标",
    "annual_goal": "年度目标",
    "initial_budget": "年初预算数",
    "budget": "全年预算数",
    "fiscal_funds": "本年财政拨款",
    "carried_over": "上年结转资金",
    "other_funds": "其他资金",
    "level1": "一级指标",
    "level2": "二级指标",
    "period_target": "实施周期指标值",
    "annual_target": "年度指标值",
    "weight": "分值",
    "position": "序号",
}
# the figures of a fund and of its nodes, as the history names them
FUND_FIELD_LABELS = {
    "name": "名称",
    "total": "资金总额（万元）",
    "year": "年度",
    "kind": "类型",
    "parent_id": "上级",
    "allocated": "下达金额（万元）",
    "arrived": "到位金额（万元）",
    "spent": "实际支出（万元）",
    "arrival_dates": "到位时间",
}
REPORT_FIELD_LABELS = {
    "basic": "一、基本情况",
    "scores": "（一）自评分数",
    "performance": "（二）使用绩效",
    "problems": "（三）存在的问题",
    "improvements": "三、改进意见",
    "filled_by": "填表人",
    "phone": "联系电话",
    "report_date": "日期",
}


def _fund_details(event) -> list[str]:
    """Who changed which node's figure from what to what; deductions; imports; the report's sections."""
    before, after = event.before or {}, event.after or {}
    action = event.action
    name = after.get("name") or before.get("name") or ""
    if action == "fund.node.add":
        return [f"节点“{name}”：下达金额 {_money(after.get('allocated'))} 万元"]
    if action == "fund.node.delete":
        return [f"删除节点“{name}”及其下级（共 {before.get('removed', 1)} 个节点）"]
    if action in ("fund.node.update", "fund.node.report", "fund.update"):
        lines = [
            f"{'' if action == 'fund.update' else f'节点“{name}”的'}{FUND_FIELD_LABELS.get(key, key)}："
            f"{_money(before.get(key))} → {_money(new)}"
            for key, new in after.items()
            if key in FUND_FIELD_LABELS and before.get(key) != new
        ]
        return lines or [f"节点“{name}”：未改变数字"]
    if action == "fund.tree.replace":
        return [f"整表替换为 {after.get('nodes')} 个节点"]
    if action in ("fund.deduction.add", "fund.deduction.remove"):
        row = after if action == "fund.deduction.add" else before
        return [f"项目 {row.get('item')} 扣 {row.get('points')} 分：{_short(row.get('reason'))}"]
    if action == "report.save":
        return [f"修改{REPORT_FIELD_LABELS.get(key, key)}" for key in after]
    if action.startswith("fund.indicator."):
        labels = {"annual_target": "年度指标值", "actual": "实际完成值", "weight": "分值", "item_code": "计入项目"}
        if action != "fund.indicator.update":
            return [f"指标“{name}”"]
        changed = [
            f"指标“{name}”的{label}：{_short(before.get(key))} → {_short(after.get(key))}"
            for key, label in labels.items()
            if before.get(key) != after.get(key)
        ]
        return changed or [f"指标“{name}”"]
    return []


def _money(value: object) -> str:
    """A stored amount as people write it (1305.000000 → 1305), anything else as it is."""
    if value is None or value == "":
        return "—"
    text = str(value)
    if "." in text and text.replace(".", "", 1).lstrip("-").isdigit():
        text = text.rstrip("0").rstrip(".")
    return _short(text)


def _short(value: object) -> str:
    text = "—" if value is None or value == "" else str(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _indicator_names(session: Session, evaluation_ids: set[int]) -> dict[str, str]:
    if not evaluation_ids:
        return {}
    rows = session.exec(
        select(Indicator.id, Indicator.name)
        .join(SelfEvaluation, SelfEvaluation.project_id == Indicator.project_id)
        .where(SelfEvaluation.id.in_(evaluation_ids))
    ).all()
    return {f"indicator:{i}": name for i, name in rows}


def _details(event, names: dict[str, str]) -> list[str]:
    """Readable lines for a history entry: status change, total, overrides."""
    before, after = event.before or {}, event.after or {}
    lines = []
    if event.action.startswith("fund.") or (event.action == "report.save" and event.entity_type == "special_fund"):
        lines.extend(_fund_details(event))
    if event.action.startswith("adjustment.") and before.get("status") != after.get("status"):
        # an adjustment request moves through the 绩效目标表's states, not a self-evaluation's
        labels = {s.code: s.label for s in lifecycle.TARGET_STATUSES}
        old = labels.get(before.get("status") or "", "—")
        lines.append(f"调整申请状态：{old} → {labels.get(after.get('status') or '', '—')}")
    elif "status" in after and before.get("status") != after.get("status"):
        old = STATUS_LABELS.get(before.get("status") or "", before.get("status") or "")
        lines.append(f"状态：{old or '—'} → {STATUS_LABELS.get(after['status'], after['status'])}")
    if "target_status" in after and before.get("target_status") != after.get("target_status"):
        labels = {s.code: s.label for s in lifecycle.TARGET_STATUSES}
        old = labels.get(before.get("target_status") or "", "—")
        lines.append(f"目标表状态：{old} → {labels.get(after['target_status'], after['target_status'])}")
    if event.entity_type in ("project", "indicator") and event.action.endswith(".update"):
        for key, new in after.items():
            lines.append(f"{FIELD_LABELS.get(key, key)}：{_short(before.get(key))} → {_short(new)}")
    if "total_score" in after and before.get("total_score") != after.get("total_score") and "status" in before:
        lines.append(f"总分：{before.get('total_score') or '—'} → {after.get('total_score') or '—'}")
    for key, new in after.items():
        if not key.startswith("indicator:") or not isinstance(new, dict):
            continue
        name = names.get(key, key)
        if "score_override" in new:
            if new["score_override"] is None:
                lines.append(f"指标“{name}”：取消得分调整")
            else:
                lines.append(f"指标“{name}”：得分调整为 {new['score_override']}（理由：{new['override_reason']}）")
        elif event.action == "evaluation.save":
            lines.append(f"指标“{name}”：修改填报内容")
    if event.action == "evaluation.save":
        lines.extend(f"修改{SAVE_LABELS[k]}" for k in after if k in SAVE_LABELS)
    return lines


# --- review rounds ---------------------------------------------------------------------------
# Each 送审 opens a round; the reviewers' decisions on it (审核通过 / 终审 / 退回 / 重新打开) and a
# withdrawal belong to it; what the unit saved after a round ended is what changed for the next one.
# Derived from the audit events alone: the events are the one source of truth.

DECISIONS = ("evaluation.approve", "evaluation.return", "evaluation.reopen", "evaluation.withdraw")
RESULT_LABELS = {
    "actual": "实际完成值",
    "qualitative_level": "完成等级",
    "score_in_band": "自选得分",
    "deviation_reason": "偏差原因分析及改进措施",
    "self_score": "自评得分",
    "self_score_reason": "自评得分理由",
}
SAVE_LABELS = {
    "spent": "全年执行数",
    "budget": "全年预算数",
    "goal_completion": "实际完成情况",
    **{
        f"{total}_{source}": f"{words}（其中：{label}）"
        for total, words in (("budget", "全年预算数"), ("spent", "全年执行数"))
        for source, label in (
            ("fiscal_funds", "本年财政拨款"),
            ("carried_over", "上年结转资金"),
            ("other_funds", "其他资金"),
        )
    },
}


@dataclass
class ReviewRound:
    """One submission of an evaluation and what became of it."""

    number: int
    submission: HistoryEntry
    decisions: list[HistoryEntry] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)  # what the unit changed since the last round

    @property
    def total_score(self) -> str | None:
        return (self.submission.after or {}).get("total_score")

    @property
    def grade(self) -> str | None:
        return (self.submission.after or {}).get("grade")

    @property
    def open(self) -> bool:
        """Still waiting for a decision that ends it (approvals pass it on; a return or withdrawal ends it)."""
        ending = ("evaluation.return", "evaluation.reopen", "evaluation.withdraw")
        return not any(d.action in ending for d in self.decisions)

    @property
    def opinion(self) -> str | None:
        """The last opinion given in this round."""
        notes = [d.note for d in self.decisions if d.note]
        return notes[-1] if notes else None


def review_rounds(entries: list[HistoryEntry]) -> list[ReviewRound]:
    """The rounds of an evaluation from its history (oldest first)."""
    rounds: list[ReviewRound] = []
    saves: list[HistoryEntry] = []
    for entry in entries:
        if entry.action == "evaluation.submit":
            changes = _net_changes(saves, entries) if rounds else []
            rounds.append(ReviewRound(number=len(rounds) + 1, submission=entry, changes=changes))
            saves = []
        elif entry.action in DECISIONS and rounds:
            rounds[-1].decisions.append(entry)
        elif entry.action == "evaluation.save":
            saves.append(entry)
    return rounds


def _net_changes(saves: list[HistoryEntry], entries: list[HistoryEntry]) -> list[str]:
    """Each field the unit changed across these saves, from its first value to its last."""
    first: dict[tuple[str, str], object] = {}
    last: dict[tuple[str, str], object] = {}
    names = entries[0].names if entries else {}
    for save in saves:
        before, after = save.before or {}, save.after or {}
        for key, new in after.items():
            if key.startswith("indicator:") and isinstance(new, dict):
                old = before.get(key) or {}
                for part, value in new.items():
                    if part in RESULT_LABELS:
                        first.setdefault((key, part), old.get(part))
                        last[(key, part)] = value
            elif key in SAVE_LABELS:
                first.setdefault((key, ""), before.get(key))
                last[(key, "")] = new
    lines = []
    for (key, part), new in last.items():
        old = first[(key, part)]
        if old == new:
            continue
        if key.startswith(("spent", "budget")):
            shown = (_money(old), _money(new))
        elif part == "qualitative_level":
            shown = (LEVEL_LABELS.get(str(old), _short(old)), LEVEL_LABELS.get(str(new), _short(new)))
        else:
            shown = (_short(old), _short(new))
        if part:
            lines.append(f"指标“{names.get(key, key)}”的{RESULT_LABELS[part]}：{shown[0]} → {shown[1]}")
        else:
            lines.append(f"{SAVE_LABELS[key]}：{shown[0]} → {shown[1]}")
    return lines
