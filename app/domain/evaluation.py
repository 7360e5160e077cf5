"""The self-evaluation's words and lifecycle, once (pure: no database, no web framework).

Every layer asks here: the models' CHECK values, the API's literals, the services' "may this
principal do this now?", the pages' labels, tones and buttons, the exports' headers. A rule
that changes changes here (or in the template's settings, for the wording of thresholds).

The lifecycle (domain.md §1): a unit fills in its evaluation (未填报 → 草稿), sends it for
review (已送审) and may withdraw it until a reviewer has acted; its department approves
(审核通过) or returns it with an opinion (已退回, editable again); the finance bureau gives the
final approval (终审通过) — from 已送审 for units that report to it directly, or from 审核通过
— or returns it; after 终审 only the finance bureau can reopen it, with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from app.domain.scoring import TemplateSettings

# --- who ---------------------------------------------------------------------------------

ROLES: tuple[str, ...] = ("unit", "department", "finance", "admin")
ROLE_LABELS: Mapping[str, str] = MappingProxyType(
    {"unit": "资金使用单位", "department": "主管部门", "finance": "财政局", "admin": "管理员"}
)
REVIEWERS: tuple[str, ...] = ("department", "finance")

# The fiscal years jixiao accepts anywhere (pages, API, CLI, imports).
MIN_YEAR, MAX_YEAR = 1900, 2200

# Token scopes (a session has every power its role gives; a token only those it carries).
SCOPES: tuple[str, ...] = ("read", "write", "review", "admin")


class PrincipalLike(Protocol):
    role: str


@dataclass(frozen=True)
class RoleOnly:
    """A role with every power it has (no token scopes): what the role alone may do."""

    role: str


# --- statuses ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    code: str
    label: str
    tone: str  # badge tone: "" | info | warn | bad | ok
    color: str  # chart colour
    handed_in: bool = False  # counts as sent in (progress, score statistics)
    approved: bool = False  # a reviewer approved it
    sent_back: bool = False  # a reviewer returned it: the unit must act on the opinion


STATUSES: tuple[Status, ...] = (
    Status("not_started", "未填报", "", "#e4e7eb"),
    Status("draft", "草稿", "info", "#9fb3c8"),
    Status("submitted", "已送审", "warn", "#1d4ed8", handed_in=True),
    Status("returned", "已退回", "bad", "#b42318", sent_back=True),
    Status("approved", "审核通过", "ok", "#2f9e57", handed_in=True, approved=True),
    Status("final", "终审通过", "ok", "#0b5d2a", handed_in=True, approved=True),
)
STATUS: Mapping[str, Status] = MappingProxyType({s.code: s for s in STATUSES})
STATUS_CODES: tuple[str, ...] = tuple(s.code for s in STATUSES)
STATUS_LABELS: Mapping[str, str] = MappingProxyType({s.code: s.label for s in STATUSES})
HANDED_IN: tuple[str, ...] = tuple(s.code for s in STATUSES if s.handed_in)
APPROVED: tuple[str, ...] = tuple(s.code for s in STATUSES if s.approved)
SENT_BACK: tuple[str, ...] = tuple(s.code for s in STATUSES if s.sent_back)
# How figures that count every handed-in status (sent in, approved or final) are headed.
HANDED_IN_LABEL = STATUS_LABELS["submitted"]
# Sent in, waiting for a reviewer (handed in, not yet approved).
AWAITING_REVIEW: tuple[str, ...] = tuple(s.code for s in STATUSES if s.handed_in and not s.approved)
# From the most advanced down, as the overview stacks them.
STATUS_ORDER: tuple[str, ...] = tuple(reversed(STATUS_CODES))
FIRST_STATUS = "not_started"
QUEUE_DEFAULT_STATUS = "submitted"  # what the review queue shows unless asked otherwise
STATUS_DOC = " / ".join(f"{s.code} {s.label}" for s in STATUSES)


# --- the transition table ------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    """(role, action) from these statuses → this status (None: the status stays)."""

    role: str
    action: str
    sources: tuple[str, ...]
    to: str | None
    scope: str  # the token scope it needs
    unreviewed_only: bool = False  # only while no reviewer has acted
    opinion_required: bool = False
    # what is evaluated: a project's 自评表 ("project") or a special fund's self-evaluation ("fund")
    subject: str = "project"


SUBJECTS: tuple[str, ...] = ("project", "fund")


ACTION_VERBS: Mapping[str, str] = MappingProxyType(
    {
        "save": "修改",
        "submit": "送审",
        "withdraw": "撤回",
        "approve": "审核通过",
        "return": "退回",
        "reopen": "重新打开",
        "report": "填报实际支出",
    }
)
EDITING = ("not_started", "draft", "returned")

TRANSITIONS: tuple[Transition, ...] = (
    Transition("unit", "save", ("not_started",), "draft", "write"),
    Transition("unit", "save", ("draft", "returned"), None, "write"),
    Transition("unit", "submit", EDITING, "submitted", "write"),
    Transition("unit", "withdraw", ("submitted",), "draft", "write", unreviewed_only=True),
    Transition("department", "approve", ("submitted",), "approved", "review"),
    Transition("department", "return", ("submitted",), "returned", "review", opinion_required=True),
    Transition("finance", "approve", ("submitted", "approved"), "final", "review"),
    Transition("finance", "return", ("submitted", "approved"), "returned", "review", opinion_required=True),
    Transition("finance", "reopen", ("final",), "returned", "review", opinion_required=True),
    # A special fund (专项资金) is evaluated by its 主管部门 and reviewed by the finance bureau, through
    # the same statuses: 草稿 → 已送审 → 已退回 / 审核通过 → 终审通过 (issue 12 §1).
    Transition("department", "save", ("not_started",), "draft", "write", subject="fund"),
    Transition("department", "save", ("draft", "returned"), None, "write", subject="fund"),
    # a recipient unit reports its own node's 实际支出 and 到位 while the evaluation is being written
    Transition("unit", "report", EDITING, None, "write", subject="fund"),
    # the bureau may create a fund and enter its tree and deductions for the department too
    Transition("finance", "save", ("not_started",), "draft", "write", subject="fund"),
    Transition("finance", "save", ("draft", "returned"), None, "write", subject="fund"),
    Transition("department", "submit", EDITING, "submitted", "write", subject="fund"),
    Transition("department", "withdraw", ("submitted",), "draft", "write", unreviewed_only=True, subject="fund"),
    Transition("finance", "approve", ("submitted",), "approved", "review", subject="fund"),
    Transition("finance", "approve", ("approved",), "final", "review", subject="fund"),
    Transition(
        "finance", "return", ("submitted", "approved"), "returned", "review", opinion_required=True, subject="fund"
    ),
    Transition("finance", "reopen", ("final",), "returned", "review", opinion_required=True, subject="fund"),
)


def rows_of(subject: str) -> tuple[Transition, ...]:
    """The rows of TRANSITIONS about one subject (project or fund): pass as `table=`."""
    return tuple(row for row in TRANSITIONS if row.subject == subject)


# --- the target table's lifecycle (domain.md §1) -------------------------------------------
# The 绩效目标表 has its own statuses, in rows of the same kind: a unit drafts it (草稿), files it
# (已申报), its department approves it (主管部门审核通过) and the bureau approves it (已批复), with
# 退回 at either review. A table imported by the bureau arrives as 已批复 (the column's default).

TARGET_STATUSES: tuple[Status, ...] = (
    Status("draft", "草稿", "info", "#9fb3c8"),
    Status("declared", "已申报", "warn", "#1d4ed8", handed_in=True),
    Status("department_approved", "主管部门审核通过", "ok", "#2f9e57", handed_in=True, approved=True),
    Status("approved", "已批复", "ok", "#0b5d2a", handed_in=True, approved=True),
    Status("returned", "已退回", "bad", "#b42318", sent_back=True),
)
TARGET_STATUS: Mapping[str, Status] = MappingProxyType({s.code: s for s in TARGET_STATUSES})
TARGET_STATUS_CODES: tuple[str, ...] = tuple(s.code for s in TARGET_STATUSES)
TARGET_STATUS_DOC = " / ".join(f"{s.code} {s.label}" for s in TARGET_STATUSES)
TARGET_IMPORTED_STATUS = "approved"
TARGET_FIRST_STATUS = "draft"
TARGET_EDITING = ("draft", "returned")

TARGET_TRANSITIONS: tuple[Transition, ...] = (
    # the unit writes its own table; the bureau and the administrator may file one for a unit
    Transition("unit", "save", TARGET_EDITING, None, "write"),
    Transition("finance", "save", TARGET_EDITING, None, "write"),
    Transition("admin", "save", TARGET_EDITING, None, "write"),
    Transition("unit", "submit", TARGET_EDITING, "declared", "write"),
    Transition("department", "approve", ("declared",), "department_approved", "review"),
    Transition("department", "return", ("declared",), "returned", "review", opinion_required=True),
    # the bureau approves (批复) after the department, or directly for units that report to it
    Transition("finance", "approve", ("declared", "department_approved"), "approved", "review"),
    Transition("finance", "return", ("declared", "department_approved"), "returned", "review", opinion_required=True),
)
# 调整: after approval (已批复) a unit asks to change target values, 分值 or goals with a reason. The
# request carries its own status (the table's status codes) and is reviewed like the table; the
# bureau's approval applies it as the table's next version. "request" is asked of the TABLE's
# status; approve/return of the request's.
ADJUSTMENT_TRANSITIONS: tuple[Transition, ...] = (
    Transition("unit", "request", ("approved",), None, "write"),
    Transition("department", "approve", ("declared",), "department_approved", "review"),
    Transition("department", "return", ("declared",), "returned", "review", opinion_required=True),
    Transition("finance", "approve", ("declared", "department_approved"), "approved", "review"),
    Transition("finance", "return", ("declared", "department_approved"), "returned", "review", opinion_required=True),
)
ADJUSTMENT_PENDING: tuple[str, ...] = ("declared", "department_approved")
ADJUSTMENT_APPLIED = "approved"
ADJUSTMENT_VERBS: Mapping[str, str] = MappingProxyType(
    {"request": "申请调整", "approve": "同意调整", "return": "退回调整申请"}
)
TARGET_ACTION_VERBS: Mapping[str, str] = MappingProxyType(
    {"save": "修改", "submit": "申报", "approve": "审核通过", "return": "退回"}
)


def _target_actions_doc() -> str:
    parts = []
    for row in TARGET_TRANSITIONS:
        if row.action == "save":
            continue
        sources = "、".join(TARGET_STATUS[s].label for s in row.sources)
        to = TARGET_STATUS[row.to].label if row.to is not None else sources
        parts.append(
            f"{row.action} {TARGET_ACTION_VERBS[row.action]}（{ROLE_LABELS[row.role]}）：{sources} → "
            f"{to}" + ("，须写意见" if row.opinion_required else "")
        )
    return "；".join(parts)


TARGET_ACTIONS_DOC = _target_actions_doc()


def target_refusal(action: str, status: str) -> str:
    """Why an action on a target table is refused in this status (Chinese, for the user)."""
    label = TARGET_STATUS[status].label if status in TARGET_STATUS else status
    verb = TARGET_ACTION_VERBS.get(action, action)
    why = "（只有草稿或已退回的目标表可以修改）" if action == "save" else ""
    return f"绩效目标表当前为“{label}”，不能{verb}{why}"


# Which statuses a rescoring (a template change, not a person's action) may touch; 已送审 only
# when asked, approved ones never.
RESCORABLE: tuple[str, ...] = EDITING
RESCORABLE_SUBMITTED: tuple[str, ...] = (*EDITING, "submitted")


def _rows(table: Iterable[Transition] | None) -> Iterable[Transition]:
    # the project's rows unless a table is given (rows_of("fund"), TARGET_TRANSITIONS)
    return rows_of("project") if table is None else table


def transition(
    principal: PrincipalLike,
    action: str,
    status: str,
    *,
    reviewed: bool = False,
    table: Iterable[Transition] | None = None,
) -> Transition | None:
    """The row that lets this principal do `action` from `status` now, or None.

    The whole principal is asked: its role and, for a token, its scopes (`principal.scopes`,
    None for a session, which has every power of its role).
    """
    scopes = getattr(principal, "scopes", None)
    for row in _rows(table):
        if row.role != principal.role or row.action != action or status not in row.sources:
            continue
        if row.unreviewed_only and reviewed:
            continue
        if scopes is not None and row.scope not in scopes:
            continue
        return row
    return None


def may(principal: PrincipalLike, action: str, status: str, *, reviewed: bool = False, table=None) -> bool:
    return transition(principal, action, status, reviewed=reviewed, table=table) is not None


def allowed_actions(
    principal: PrincipalLike, status: str, *, reviewed: bool = False, actions: Iterable[str] | None = None, table=None
) -> tuple[str, ...]:
    """The actions this principal may take now, in the table's order, each once."""
    found: list[str] = []
    for row in _rows(table):
        if row.action in found or (actions is not None and row.action not in actions):
            continue
        if may(principal, row.action, status, reviewed=reviewed, table=table):
            found.append(row.action)
    return tuple(found)


def roles_for(action: str, table=None) -> tuple[str, ...]:
    """Every role that may ever take this action."""
    return tuple(dict.fromkeys(row.role for row in _rows(table) if row.action == action))


def sources_for(action: str, role: str | None = None, table=None) -> tuple[str, ...]:
    """Every status from which this action (by this role) is possible, in status order."""
    found = {s for row in _rows(table) if row.action == action and role in (None, row.role) for s in row.sources}
    return tuple(code for code in STATUS_CODES if code in found)


def editable_statuses(table=None) -> tuple[str, ...]:
    """The statuses in which a unit may change what it typed."""
    return sources_for("save", "unit", table)


# How the history names each recorded action (an approval is named by the status it reached).
HISTORY_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "evaluation.save": "保存填报",
        "evaluation.submit": "送审",
        "evaluation.withdraw": "撤回",
        "evaluation.approve": "审核通过",
        "evaluation.return": "退回",
        "evaluation.reopen": "终审后重新打开（退回）",
        "evaluation.rescore": "重新计分",
        "project.create": "新建目标表",
        "project.copy": "从上年的目标表复制",
        "project.update": "修改项目信息",
        "indicator.create": "添加指标",
        "indicator.update": "修改指标",
        "indicator.delete": "删除指标",
        "target_table.submit": "申报",
        "target_table.approve": "审核通过",
        "target_table.return": "退回",
        "adjustment.request": "申请调整",
        "adjustment.approve": "同意调整",
        "adjustment.return": "退回调整申请",
        "adjustment.apply": "调整生效（新版本）",
        "report.save": "保存自评报告",
        "fund.create": "新建专项资金",
        "fund.update": "修改专项资金",
        "fund.node.add": "添加资金分配节点",
        "fund.node.update": "修改资金分配节点",
        "fund.node.delete": "删除资金分配节点",
        "fund.node.report": "用款单位填报实际支出",
        "fund.tree.replace": "导入资金分配（整表替换）",
        "fund.deduction.add": "记录扣分",
        "fund.deduction.remove": "撤销扣分",
        "fund.indicator.add": "添加绩效指标",
        "fund.indicator.update": "修改绩效指标",
        "fund.indicator.delete": "删除绩效指标",
        "fund.submit": "送审",
        "fund.withdraw": "撤回",
        "fund.approve": "审核通过",
        "fund.return": "退回",
        "fund.reopen": "终审后重新打开（退回）",
    }
)


HISTORY_DOC = " / ".join(f"{action} {label}" for action, label in HISTORY_LABELS.items())
# What a page says once an action went through ({status}: the label of the status reached).
NOTICES: Mapping[str, str] = MappingProxyType(
    {
        "submit": "已送审，等待审核。",
        "withdraw": "已撤回，可以继续修改后再送审。",
        "approve": "已{status}。",
        "return": "已退回，单位可修改后重新送审。",
        "reopen": "已重新打开，退回单位修改。",
    }
)


# What the 绩效目标表 page says once an action went through.
TARGET_NOTICES: Mapping[str, str] = MappingProxyType(
    {
        "create": "已新建目标表草稿，请逐行添加指标。",
        "copy": "已按上年的目标表新建草稿：请逐行核对今年的指标值与分值。",
        "submit": f"已申报（{TARGET_STATUS['declared'].label}），等待审核。",
        "approve": "审核已通过。",
        "return": "已退回单位，单位修改后可重新申报。",
        "adjustment.request": "已提交调整申请，等待审核；审核通过前目标表按原值计分。",
        "adjustment.approve": "已同意调整。",
        "adjustment.apply": "调整已生效：目标表进入新版本，自评按调整后的值计分，并列出调整前的值。",
        "adjustment.return": "已退回调整申请。",
    }
)


def history_label(action: str, after_status: str | None) -> str:
    if action in ("evaluation.approve", "fund.approve") and after_status is not None and after_status in STATUS:
        return STATUS_LABELS[after_status]
    return HISTORY_LABELS.get(action, action)


def outcome(principal: PrincipalLike, action: str, status: str, *, reviewed: bool = False, table=None) -> str | None:
    """The status this principal's action would lead to now (None: not allowed)."""
    row = transition(principal, action, status, reviewed=reviewed, table=table)
    return None if row is None else target_status(row, status)


def target_status(row: Transition, status: str) -> str:
    return status if row.to is None else row.to


def refusal(action: str, status: str) -> str:
    """The message for an action the lifecycle does not allow from this status."""
    return f"自评当前状态为“{STATUS_LABELS.get(status, status)}”，不能{ACTION_VERBS.get(action, action)}"


# --- achievement levels (定性指标) --------------------------------------------------------------

LEVELS: tuple[str, ...] = ("achieved", "partial", "not_achieved")
LEVEL_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "achieved": "达成年度指标",
        "partial": "部分达成年度指标并具有一定效果",
        "not_achieved": "未达成年度指标且效果较差",
    }
)


# --- grades ----------------------------------------------------------------------------------

GRADE_COLORS_BY_RANK = ("#0b5d2a", "#2f9e57", "#a35f00", "#b42318", "#7a271a", "#55160c")


def grades(settings: TemplateSettings) -> tuple[str, ...]:
    """The template's grades from the best down (national: 优 良 中 差)."""
    return tuple(grade for grade, _ in settings.grade_thresholds)


def grade_colors(settings: TemplateSettings) -> dict[str, str]:
    return {g: GRADE_COLORS_BY_RANK[min(i, len(GRADE_COLORS_BY_RANK) - 1)] for i, g in enumerate(grades(settings))}


def number_text(value: Decimal) -> str:
    """A threshold as people write it: 90, 92.5 (no trailing zeros)."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def grade_ranges(settings: TemplateSettings) -> dict[str, str]:
    """Each grade's range in words: 优 "≥90", 良 "80–<90", …, 差 "<60"."""
    out: dict[str, str] = {}
    above: Decimal | None = None
    for grade, low in settings.grade_thresholds:
        if above is None:
            out[grade] = f"≥{number_text(low)}"
        elif low == 0:
            out[grade] = f"<{number_text(above)}"
        else:
            out[grade] = f"{number_text(low)}–<{number_text(above)}"
        above = low
    return out


def grade_rule_text(settings: TemplateSettings) -> str:
    """优（≥90）、良（80–<90）、中（60–<80）、差（<60）."""
    return "、".join(f"{g}（{r}）" for g, r in grade_ranges(settings).items())


# --- flags -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    code: str
    label: str  # the full sentence (badge title, print legend); may hold {over} {low} {high}
    short: str  # the badge text
    tone: str = ""  # bad | warn | ""
    queue: str | None = None  # the review queue's filter wording, when it is a queue filter


FLAGS: tuple[Flag, ...] = (
    Flag("unmet", "未达到年度指标值", "未达标", "bad", "有未达成的指标"),
    Flag(
        "over_achieved",
        "实际值达到年度指标值的 {over}% 以上，指标可能设置偏低，需说明原因",
        "实际值 ≥ 目标的 {over}%",
        "warn",
        "有实际值 ≥ 目标 {over}% 的指标",
    ),
    Flag("unit_mismatch", "实际完成值与年度指标值的计量单位不一致，未计分", "单位不一致", "bad"),
    Flag(
        "unit_assumed",
        "实际完成值未写计量单位，已按年度指标值的单位和数量级（如“万元”）理解，请核对",
        "未写单位",
        "warn",
    ),
    Flag("low_confidence_target", "年度指标值的识别把握不大，请核对", "指标值待核对", "warn", "有识别把握不大的指标值"),
    Flag("direction_hint", "指标名称提示可能“越低越好”，请核对指标方向", "方向待核对", "warn"),
    Flag("actual_missing", "未填写实际完成值", "待填写"),
    Flag("actual_unparsed", "实际完成值未能识别为数值或日期", "未识别", "bad"),
    Flag("target_unparsed", "年度指标值未能识别为数值或日期，按达成程度计分", "按达成程度计分", "warn"),
    Flag("level_missing", "请选择达成程度", "待选达成程度"),
    Flag("score_out_of_band", "所填得分不在所选达成程度的分值区间内，未计分", "得分超出区间", "bad"),
    Flag("late", "未按期完成", "逾期", "bad"),
    Flag("zero_target_missed", "指标值为 0，实际不为 0，得 0 分", "零目标未达成", "bad"),
    Flag("reason_missing", "缺少偏差原因分析及改进措施", "缺偏差原因", "bad"),
    Flag("overridden", "得分已由审核人调整", "审核调整"),
    Flag("override_capped", "审核调整的得分超过现行分值，已按分值封顶", "调整已封顶", "warn"),
    Flag("execution_low", "预算执行率低于 {low}%", "执行率 < {low}%", "warn", "预算执行率低于 {low}%"),
    Flag("execution_over", "预算执行率超过 {high}%", "执行率 > {high}%", "warn"),
    Flag("budget_missing", "缺少全年预算数（或为 0），无法计算预算执行率", "缺全年预算数", "warn"),
    Flag("spent_missing", "未填写全年执行数", "待填执行数"),
    Flag("no_indicators", "项目没有绩效指标", "无指标"),
    Flag("weights_partial", "部分指标给出了分值、部分没有，该类指标按平均分配", "分值部分给出", "warn"),
    Flag(
        "weights_scaled",
        "表中各指标分值合计不是 90，已按比例折算为 90 分（各指标之间的比例不变）",
        "分值已折算",
        "warn",
    ),
    Flag("self_scored", "得分由单位自评填写（计算得分列在旁边）", "单位自评"),
    Flag("self_score_differs", "单位自评得分与计算得分不同", "自评≠计算", "warn"),
    Flag("self_score_reason_missing", "单位自评得分须说明理由", "缺自评理由", "bad"),
    Flag("self_score_out_of_range", "单位自评得分超出 0 至分值的范围，未采用", "自评超出分值", "bad"),
    Flag("self_score_not_allowed", "评分模板不允许单位自评得分，未采用", "不允许自评", "warn"),
    # Not raised by the engine: computed from the table for the review queue.
    Flag("no_satisfaction", "缺少满意度指标", "缺满意度指标", "warn", "缺少满意度指标"),
    # A special fund's allocation tree (app/domain/funds.py): differences are shown, never fixed.
    Flag("allocation_mismatch", "下级下达金额合计与本级金额不一致", "下级合计不符", "bad"),
    Flag("spent_mismatch", "本级填写的实际支出与下级实际支出合计不一致（按下级合计计算）", "支出合计不符", "bad"),
    Flag("spent_partial", "部分下级未填写实际支出，本级支出率无法由下级汇总", "下级支出不全", "warn"),
    Flag("spent_over", "实际支出超过下达金额", "超支", "bad"),
    Flag("fund_spent_missing", "实际支出尚未填全，无法计算资金支出率", "缺实际支出", "warn"),
)
FLAG: Mapping[str, Flag] = MappingProxyType({f.code: f for f in FLAGS})
FLAG_CODES: tuple[str, ...] = tuple(f.code for f in FLAGS)
# The review queue's filters, in the queue's order.
QUEUE_FLAG_CODES: tuple[str, ...] = (
    "execution_low",
    "unmet",
    "over_achieved",
    "no_satisfaction",
    "low_confidence_target",
)


def _words(settings: TemplateSettings | None) -> dict[str, str]:
    if settings is None:
        from app.domain.scoring import TemplateSettings

        settings = TemplateSettings()
    return {
        "over": number_text(settings.over_achievement_percent),
        "low": number_text(settings.execution_low_below),
        "high": number_text(settings.execution_over_above),
    }


def flag_texts(settings: TemplateSettings | None = None) -> dict[str, dict[str, Any]]:
    """code → {label, short, tone, queue} with the template's thresholds written in."""
    words = _words(settings)
    return {
        f.code: {
            "label": f.label.format(**words),
            "short": f.short.format(**words),
            "tone": f.tone,
            "queue": f.queue.format(**words) if f.queue else None,
        }
        for f in FLAGS
    }


def flag_labels(settings: TemplateSettings | None = None) -> dict[str, str]:
    return {code: t["label"] for code, t in flag_texts(settings).items()}


def queue_flags(settings: TemplateSettings | None = None) -> dict[str, str]:
    """The review queue's flag filters: code → wording, thresholds from the template."""
    texts = flag_texts(settings)
    return {code: texts[code]["queue"] for code in QUEUE_FLAG_CODES}


# --- checking a submitted report (jixiao check-report, domain.md §6) -------------------------
# A declared figure is compared with what the report's own figures give; each check says what it
# compares (label) and, when the figures do not agree, the badge it shows (flag).


@dataclass(frozen=True)
class ReportCheckKind:
    code: str
    label: str
    flag: str


REPORT_CHECKS: tuple[ReportCheckKind, ...] = (
    ReportCheckKind("allocations", "各分配数之和与其总数", "分配数之和与总数不符"),
    ReportCheckKind("spent_balance", "实际支出加结余与下达数", "支出加结余与下达数不符"),
    ReportCheckKind("rate", "申报的比率与按金额重算的比率", "比率与重算不符"),
    ReportCheckKind("item_scores", "各项得分之和与所属类别得分", "分项得分之和与类别得分不符"),
    ReportCheckKind("category_scores", "各类别得分之和与总分", "类别得分之和与总分不符"),
    ReportCheckKind("grade", "申报的等级与按总分应得的等级", "等级与总分不符"),
)
REPORT_CHECK: Mapping[str, ReportCheckKind] = MappingProxyType({k.code: k for k in REPORT_CHECKS})
# A declared rate is flagged when it differs from the recomputed one, rounded to the declared
# precision, by more than this many percentage points (97.42% declared, 97.35% recomputed).
RATE_TOLERANCE_POINTS = Decimal("0.05")
REPORT_CHECK_OK = "相符"
REPORT_NOT_DERIVABLE = "无法由报告中的其他数字推算，仅列出，未核对"


# The 其中 rows of the money block (domain.md §5): the fund sources of 年初预算数 (on the target table),
# and of 全年预算数 and 全年执行数 (reported by the unit on its 自评表).
FUND_SOURCES: Mapping[str, str] = MappingProxyType(
    {"fiscal_funds": "本年财政拨款", "carried_over": "上年结转资金", "other_funds": "其他资金"}
)
