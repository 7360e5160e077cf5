"""Special funds (专项资金): creating a fund, entering its allocation tree, scoring its self-evaluation.

Tenancy (issue 12 §1), enforced here in the queries: the finance bureau and administrators see every
fund; a 主管部门 sees and edits its own funds; a recipient unit sees the nodes that name it (and what
lies below them), their ancestors' totals and the fund's — never a sibling's figures: any other node
is "not found", whatever id is asked for. The self-evaluation moves through the rows of
app/domain/evaluation.py TRANSITIONS whose subject is "fund".

For readers of a fund (pages, API, the report generator and checker): `fund_view` returns the fund,
its visible tree with every computed figure, and — for those who may see it — its score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from app.domain import evaluation as lifecycle
from app.domain.categories import LEVEL1_BY_SLUG, LEVEL2_BY_SLUG, level1_from_text, level2_from_text
from app.domain.funds import (
    FUND_TEMPLATES,
    GUANGDONG_FUND,
    IMPLEMENTATION_LABELS,
    IMPLEMENTATIONS,
    NODE_KIND_LABELS,
    NODE_KINDS,
    RECIPIENT_KIND_LABELS,
    RECIPIENT_KINDS,
    Deduction,
    Figures,
    FundScore,
    NodeInput,
    TreeFigures,
    item_codes,
    score_fund,
    tree_figures,
)
from app.domain.scoring import QUALITATIVE_LEVELS, IndicatorInput, TemplateSettings
from app.domain.targets import parse_target
from app.models import (
    Department,
    FundDeduction,
    FundEvaluation,
    FundIndicator,
    FundNode,
    ScoringTemplate,
    SpecialFund,
    Unit,
)
from app.security import Principal
from app.services import audit, templates
from app.services.errors import Conflict, NotFound, PermissionDenied, Problems, ValidationFailed
from app.services.evaluations import parse_money

FUND = lifecycle.rows_of("fund")
NOT_FOUND = "专项资金不存在或无权查看"
NODE_NOT_FOUND = "资金分配节点不存在或无权查看"
MAX_NODES = 5000
MAX_DEPTH = 8


def _fund_table() -> tuple[lifecycle.Transition, ...]:
    # read at call time, so the one table (TRANSITIONS) is the rule, also when a test changes it
    return lifecycle.rows_of("fund")


# --- inputs ------------------------------------------------------------------------------------


@dataclass
class FundFields:
    """What a person gives for a fund (money as text or Decimal, in 万元)."""

    year: int
    name: str
    total: Any
    department_id: int | None = None  # the bureau names it; a department's own account need not
    fiscal_power: str = ""
    policy_tasks: int | None = None
    template_name: str = GUANGDONG_FUND
    declared: dict[str, str] = field(default_factory=dict)  # e.g. {"execution_rate": "97.42"}


@dataclass
class NodeFields:
    """One node of the tree as a person gives it."""

    kind: str
    name: str
    allocated: Any
    parent_id: int | None = None
    recipient_kind: str | None = None
    unit_id: int | None = None
    arrived: Any = None
    arrival_dates: str | None = None
    spent: Any = None
    implementation: str | None = None
    purpose: str | None = None
    own_score: Any = None
    own_score_note: str | None = None
    position: int | None = None


DECLARED_KEYS = {"execution_rate": "资金支出率（%）", "arrival_rate": "资金到位率（%）", "total_score": "总分"}


# --- reading -----------------------------------------------------------------------------------


def _fund_filter(principal: Principal) -> sa.ColumnElement[bool]:
    if principal.role in ("finance", "admin"):
        return sa.true()
    if principal.role == "department":
        if principal.department_id is None:
            return sa.false()
        return SpecialFund.department_id == principal.department_id
    if principal.role == "unit" and principal.unit_id is not None:
        return SpecialFund.id.in_(select(FundNode.fund_id).where(FundNode.unit_id == principal.unit_id))
    return sa.false()


def list_funds(*, session: Session, principal: Principal, year: int | None = None) -> list[SpecialFund]:
    """The funds the caller may see, newest year first."""
    query = select(SpecialFund).where(_fund_filter(principal))
    if year is not None:
        query = query.where(SpecialFund.year == year)
    return list(session.exec(query.order_by(SpecialFund.year.desc(), SpecialFund.id)).all())


def visible_fund(*, session: Session, principal: Principal, fund_id: int) -> SpecialFund:
    """The fund if the caller may see it; otherwise NotFound (no existence leak)."""
    fund = session.exec(select(SpecialFund).where(SpecialFund.id == fund_id, _fund_filter(principal))).first()
    if fund is None:
        raise NotFound(NOT_FOUND)
    return fund


def _nodes(session: Session, fund_id: int) -> list[FundNode]:
    return list(
        session.exec(select(FundNode).where(FundNode.fund_id == fund_id).order_by(FundNode.position, FundNode.id)).all()
    )


def _visible_keys(principal: Principal, nodes: Sequence[FundNode]) -> tuple[set[int], set[int]] | None:
    """For a unit: (its own nodes and what lies below them, their ancestors). None: sees the whole tree."""
    if principal.role != "unit":
        return None
    by_id = {n.id: n for n in nodes}
    own = {n.id for n in nodes if n.unit_id is not None and n.unit_id == principal.unit_id}
    below: set[int] = set()
    for n in nodes:
        cursor: FundNode | None = n
        while cursor is not None:
            if cursor.id in own:
                below.add(n.id)  # type: ignore[arg-type]
                break
            cursor = by_id.get(cursor.parent_id) if cursor.parent_id is not None else None
    ancestors: set[int] = set()
    for key in own:
        parent = by_id[key].parent_id
        while parent is not None and parent not in ancestors:
            ancestors.add(parent)
            parent = by_id[parent].parent_id
    return below, ancestors - below


def visible_node(*, session: Session, principal: Principal, node_id: int) -> FundNode:
    """The node if the caller may see it (a unit: its own, below its own, or their ancestors); else NotFound."""
    node = session.get(FundNode, node_id)
    if node is None:
        raise NotFound(NODE_NOT_FOUND)
    try:
        visible_fund(session=session, principal=principal, fund_id=node.fund_id)
    except NotFound:
        raise NotFound(NODE_NOT_FOUND) from None
    keys = _visible_keys(principal, _nodes(session, node.fund_id))
    if keys is not None and node.id not in keys[0] | keys[1]:
        raise NotFound(NODE_NOT_FOUND)
    return node


@dataclass(frozen=True)
class NodeView:
    node: FundNode
    figures: Figures
    depth: int
    path: tuple[str, ...]  # the names from the top down to this node's parent
    unit_name: str | None
    ancestor_only: bool  # shown to a recipient as an ancestor: its totals only
    has_children: bool


@dataclass(frozen=True)
class DeclaredCheck:
    key: str
    label: str
    declared: Decimal
    computed: Decimal | None
    differs: bool  # the recomputed figure, rounded to the declared precision, is not the declared one


@dataclass(frozen=True)
class FundView:
    """A fund as its reader may see it: the tree with every figure computed, and its score."""

    fund: SpecialFund
    department_name: str
    figures: Figures  # the fund's own (total, spent summed up the tree, rates, flags)
    nodes: tuple[NodeView, ...]  # pre-order, visible ones only
    evaluation: FundEvaluation | None  # None for a recipient unit
    settings: TemplateSettings | None
    template_label: str | None
    score: FundScore | None
    deductions: tuple[FundDeduction, ...]
    declared: tuple[DeclaredCheck, ...]
    actions: tuple[str, ...]  # what the caller may do with the evaluation now
    editable: bool  # the caller may change the tree and the deductions now
    whole_tree: bool  # False for a recipient: siblings are left out
    may_report: bool = False  # a recipient may report its own nodes' 实际支出 now

    def node(self, node_id: int) -> NodeView:
        return next(v for v in self.nodes if v.node.id == node_id)

    def divisions(self) -> tuple[NodeView, ...]:
        """The 处室 with their own evaluation scores (shown beside the total, never summed into it)."""
        return tuple(v for v in self.nodes if v.node.kind == "division")


def _tree(total: Decimal, nodes: Sequence[FundNode]) -> TreeFigures:
    return tree_figures(
        total,
        [NodeInput(n.id, n.parent_id, n.name, n.allocated, n.arrived, n.spent) for n in nodes],  # type: ignore[arg-type]
    )


def _declared(fund: SpecialFund, tree: TreeFigures, score: FundScore | None) -> tuple[DeclaredCheck, ...]:
    computed: dict[str, Decimal | None] = {
        "execution_rate": None
        if tree.fund.execution is None
        else Decimal(tree.fund.execution.numerator * 100) / Decimal(tree.fund.execution.denominator),
        "arrival_rate": None
        if tree.fund.arrival is None
        else Decimal(tree.fund.arrival.numerator * 100) / Decimal(tree.fund.arrival.denominator),
        "total_score": score.total if score is not None else None,
    }
    out = []
    for key, text in (fund.declared or {}).items():
        if key not in DECLARED_KEYS:
            continue
        declared = Decimal(str(text))
        value = computed.get(key)
        differs = False
        if value is not None:
            places = max(-declared.as_tuple().exponent, 0)  # type: ignore[operator]
            rounded = value.quantize(Decimal(1).scaleb(-places), rounding="ROUND_HALF_UP")
            differs = rounded != declared
        out.append(DeclaredCheck(key, DECLARED_KEYS[key], declared, value, differs))
    return tuple(out)


def fund_view(*, session: Session, principal: Principal, fund_id: int) -> FundView:
    """The fund, its visible tree with computed figures, and (for its evaluators and reviewers) its score."""
    fund = visible_fund(session=session, principal=principal, fund_id=fund_id)
    nodes = _nodes(session, fund.id)  # type: ignore[arg-type]
    tree = _tree(fund.total, nodes)
    keys = _visible_keys(principal, nodes)
    shown = None if keys is None else keys[0] | keys[1]
    units = {
        u.id: u.name
        for u in session.exec(select(Unit).where(Unit.id.in_({n.unit_id for n in nodes if n.unit_id}))).all()
    }
    by_id = {n.id: n for n in nodes}
    views: list[NodeView] = []

    def visit(parent: int | None, depth: int, path: tuple[str, ...]) -> None:
        for key in tree.children.get(parent, ()):
            node = by_id[key]
            if shown is None or key in shown:
                views.append(
                    NodeView(
                        node=node,
                        figures=tree.nodes[key],
                        depth=depth,
                        path=path,
                        unit_name=units.get(node.unit_id) if node.unit_id else None,
                        ancestor_only=keys is not None and key in keys[1],
                        has_children=bool(tree.children.get(key)),
                    )
                )
            visit(key, depth + 1, (*path, node.name))

    visit(None, 0, ())
    department = session.get(Department, fund.department_id)
    evaluation = settings = score = label = None
    deductions: tuple[FundDeduction, ...] = ()
    actions: tuple[str, ...] = ()
    editable = False
    if principal.role != "unit":
        evaluation = _evaluation(session, fund)
        template = session.get(ScoringTemplate, evaluation.template_id)
        settings = templates.settings_of(template)  # type: ignore[arg-type]
        label = templates.label(template)  # type: ignore[arg-type]
        deductions = tuple(
            session.exec(
                select(FundDeduction).where(FundDeduction.evaluation_id == evaluation.id).order_by(FundDeduction.id)
            ).all()
        )
        score = score_fund(
            settings=settings,
            figures=tree.figures(),
            deductions=[_deduction(d) for d in deductions],
            indicators=indicator_inputs(fund_indicators(session, fund.id), fund.year),  # type: ignore[arg-type]
        )
        reviewed = evaluation.reviewed_at is not None
        actions = lifecycle.allowed_actions(principal, evaluation.status, reviewed=reviewed, table=_fund_table())
        editable = lifecycle.may(principal, "save", evaluation.status, table=_fund_table())
    may_report = principal.role == "unit" and lifecycle.may(
        principal, "report", _evaluation(session, fund).status, table=_fund_table()
    )
    return FundView(
        fund=fund,
        department_name=department.name if department else "",
        figures=tree.fund,
        nodes=tuple(views),
        evaluation=evaluation,
        settings=settings,
        template_label=label,
        score=score,
        deductions=deductions,
        declared=_declared(fund, tree, score) if principal.role != "unit" else (),
        actions=tuple(a for a in actions if a != "save"),
        editable=editable,
        whole_tree=keys is None,
        may_report=may_report,
    )


def _deduction(row: FundDeduction) -> Deduction:
    return Deduction(row.item_code, row.points, row.reason, row.indicator, row.node_id)


def _evaluation(session: Session, fund: SpecialFund) -> FundEvaluation:
    row = session.exec(select(FundEvaluation).where(FundEvaluation.fund_id == fund.id)).first()
    if row is None:  # every fund is created with one; this only guards a hand-made row
        raise NotFound("该专项资金没有自评记录")
    return row


# --- writing the fund ---------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _require_writer(principal: Principal) -> None:
    if principal.role not in ("finance", "admin", "department"):
        raise PermissionDenied("只有财政局或专项资金的主管部门可以建立、修改专项资金")
    if principal.scopes is not None and "write" not in principal.scopes:
        raise PermissionDenied("此令牌没有「填报」权限（write），不能修改专项资金")


def _check_fund_fields(session: Session, principal: Principal, data: FundFields, problems: Problems) -> Decimal | None:
    name = (data.name or "").strip()
    if not name:
        problems.add("name", "请填写专项资金名称")
    elif len(name) > 500:
        problems.add("name", "专项资金名称不能超过 500 个字符")
    if not (lifecycle.MIN_YEAR <= data.year <= lifecycle.MAX_YEAR):
        problems.add("year", f"年度须在 {lifecycle.MIN_YEAR} 至 {lifecycle.MAX_YEAR} 之间")
    total = parse_money(data.total, "total", "专项资金总额", problems)
    if total is None and not any(p.field == "total" for p in problems.items):
        problems.add("total", "请填写专项资金总额（万元）")
    if data.policy_tasks is not None and not (0 <= data.policy_tasks <= 10000):
        problems.add("policy_tasks", "政策任务数量须为 0 至 10000 的整数")
    if len(data.fiscal_power or "") > 200:
        problems.add("fiscal_power", "财政事权名称不能超过 200 个字符")
    if data.template_name not in FUND_TEMPLATES:
        problems.add("template_name", f"评分模板须为 {'、'.join(FUND_TEMPLATES)} 之一")
    for key, text in (data.declared or {}).items():
        if key not in DECLARED_KEYS:
            problems.add(f"declared.{key}", f"无法识别的申报数字：{key}（可用：{'、'.join(DECLARED_KEYS)}）")
            continue
        try:
            value = Decimal(str(text).strip().rstrip("%"))
            if not value.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            problems.add(f"declared.{key}", f"{DECLARED_KEYS[key]}应为数字，如 97.42")
    return total


def _department_for(
    session: Session, principal: Principal, department_id: int | None, problems: Problems
) -> int | None:
    if principal.role == "department":
        if department_id not in (None, principal.department_id):
            raise PermissionDenied("主管部门只能为本部门建立专项资金")
        return principal.department_id
    if department_id is None:
        problems.add("department_id", "请选择专项资金的主管部门")
        return None
    if session.get(Department, department_id) is None:
        problems.add("department_id", "主管部门不存在")
        return None
    return department_id


def create_fund(*, session: Session, principal: Principal, data: FundFields) -> SpecialFund:
    """Create a fund (the bureau for any department, a department for itself) with its evaluation."""
    _require_writer(principal)
    problems = Problems()
    total = _check_fund_fields(session, principal, data, problems)
    department_id = _department_for(session, principal, data.department_id, problems)
    problems.raise_if_any()
    name = data.name.strip()
    clash = session.exec(
        select(SpecialFund.id).where(
            SpecialFund.year == data.year, SpecialFund.department_id == department_id, SpecialFund.name == name
        )
    ).first()
    if clash is not None:
        raise Conflict(f"{data.year} 年度该主管部门已有同名专项资金「{name}」")
    fund = SpecialFund(
        year=data.year,
        name=name,
        fiscal_power=(data.fiscal_power or "").strip(),
        policy_tasks=data.policy_tasks,
        total=total,  # type: ignore[arg-type]
        department_id=department_id,  # type: ignore[arg-type]
        template_name=data.template_name,
        declared={k: str(v).strip().rstrip("%") for k, v in (data.declared or {}).items()},
        created_by_id=principal.user_id,
    )
    session.add(fund)
    session.flush()
    template = templates.current_template(session=session, name=data.template_name)
    session.add(FundEvaluation(fund_id=fund.id, template_id=template.id))  # type: ignore[arg-type]
    audit.record(
        session=session,
        actor=principal,
        stream=fund_stream(fund.id),  # type: ignore[arg-type]
        action="fund.create",
        entity_type="special_fund",
        entity_id=fund.id,
        after={"year": fund.year, "name": fund.name, "total": str(fund.total)},
    )
    session.commit()
    return fund


def update_fund(
    *, session: Session, principal: Principal, fund_id: int, data: FundFields, version: int | None = None
) -> SpecialFund:
    """Change a fund's name, total, 财政事权, 政策任务数 or declared figures while it may be edited."""
    fund, evaluation = _editable(session, principal, fund_id)
    _claim(session, fund, version)
    problems = Problems()
    total = _check_fund_fields(session, principal, data, problems)
    if data.template_name != fund.template_name:
        problems.add("template_name", "建立后不能更换评分模板")
    problems.raise_if_any()
    before = {"name": fund.name, "total": str(fund.total), "year": fund.year}
    fund.name, fund.year, fund.total = data.name.strip(), data.year, total  # type: ignore[assignment]
    fund.fiscal_power, fund.policy_tasks = (data.fiscal_power or "").strip(), data.policy_tasks
    fund.declared = {k: str(v).strip().rstrip("%") for k, v in (data.declared or {}).items()}
    _touch(session, principal, fund, evaluation)
    audit.record(
        session=session,
        actor=principal,
        stream=fund_stream(fund.id),  # type: ignore[arg-type]
        action="fund.update",
        entity_type="special_fund",
        entity_id=fund.id,
        before=before,
        after={"name": fund.name, "total": str(fund.total), "year": fund.year},
    )
    session.commit()
    return fund


def editable_fund(*, session: Session, principal: Principal, fund_id: int) -> SpecialFund:
    """The fund if the caller may change it now (its tree, deductions, report); else 403 / 409."""
    return _editable(session, principal, fund_id)[0]


def _editable(session: Session, principal: Principal, fund_id: int) -> tuple[SpecialFund, FundEvaluation]:
    fund = visible_fund(session=session, principal=principal, fund_id=fund_id)
    _require_writer(principal)
    evaluation = _evaluation(session, fund)
    if not lifecycle.may(principal, "save", evaluation.status, table=_fund_table()):
        if lifecycle.may(lifecycle.RoleOnly(principal.role), "save", evaluation.status, table=_fund_table()):
            raise PermissionDenied("此令牌没有「填报」权限（write），不能修改专项资金")
        if any(r.action == "save" and r.role == principal.role for r in _fund_table()):
            raise Conflict(
                f"专项资金自评当前状态为“{lifecycle.STATUS_LABELS[evaluation.status]}”，不能修改资金分配或扣分"
            )
        raise PermissionDenied("您的账号不能修改专项资金")
    return fund, evaluation


def fund_stream(fund_id: int) -> str:
    """Every change of one fund (its fields, tree, deductions, evaluation, report) joins one audit stream:
    its history reads that stream, deleted nodes included."""
    return f"special_fund:{fund_id}"


STALE_TREE = (
    "该专项资金已被他人或其他窗口修改（您的修改基于第 {seen} 版，现在是第 {now} 版），本次修改未保存：请刷新页面，"
    "看过最新的资金分配后再改"
)


def _claim(session: Session, fund: SpecialFund, version: int | None) -> None:
    """Move the fund's version on, only from the version the edit was based on (None: from any).

    One conditional UPDATE: of two editors who read the same version, the second waits for the
    first's row lock and then finds the version moved — a 409, never a lost update nor a 500.
    Taken before the edit's own writes, so every edit locks the fund first (no deadlock).
    """
    table = SpecialFund.__table__
    query = sa.update(table).where(table.c.id == fund.id)
    if version is not None:
        query = query.where(table.c.version == version)
    done = session.connection().execute(query.values(version=table.c.version + 1, updated_at=_now()))
    if done.rowcount != 1:
        session.rollback()
        now = session.connection().execute(sa.select(table.c.version).where(table.c.id == fund.id)).scalar_one()
        session.rollback()
        raise Conflict(STALE_TREE.format(seen=version, now=now))
    current = session.connection().execute(sa.select(table.c.version).where(table.c.id == fund.id)).scalar_one()
    set_committed_value(fund, "version", current)


def _touch(session: Session, principal: Principal, fund: SpecialFund, evaluation: FundEvaluation) -> None:
    """A change was made (the version moved on in _claim): a first save makes the evaluation a draft."""
    to = lifecycle.outcome(principal, "save", evaluation.status, table=_fund_table())
    if to is not None:
        evaluation.status = to
    evaluation.updated_at = _now()
    session.add(evaluation)


def _check_node(
    session: Session,
    fund: SpecialFund,
    data: NodeFields,
    problems: Problems,
    *,
    node_id: int | None = None,
    where: str = "",
) -> dict[str, Any]:
    """The validated column values of a node; problems named by field (prefixed by `where`)."""
    out: dict[str, Any] = {}
    kind = (data.kind or "").strip()
    if kind not in NODE_KINDS:
        problems.add(where + "kind", f"节点类型须为 {'、'.join(NODE_KIND_LABELS.values())} 之一")
    out["kind"] = kind
    name = (data.name or "").strip()
    if not name:
        problems.add(where + "name", "请填写名称")
    elif len(name) > 500:
        problems.add(where + "name", "名称不能超过 500 个字符")
    out["name"] = name
    allocated = parse_money(data.allocated, where + "allocated", "下达金额", problems)
    if allocated is None and not any(p.field == where + "allocated" for p in problems.items):
        problems.add(where + "allocated", "请填写下达金额（万元）")
    out["allocated"] = allocated
    out["arrived"] = parse_money(data.arrived, where + "arrived", "到位金额", problems)
    out["spent"] = parse_money(data.spent, where + "spent", "实际支出", problems)
    dates = (data.arrival_dates or "").strip() or None
    if dates is not None and len(dates) > 200:
        problems.add(where + "arrival_dates", "到位时间不能超过 200 个字符")
    out["arrival_dates"] = dates
    rk = (data.recipient_kind or "").strip() or None
    if rk is not None and rk not in RECIPIENT_KINDS:
        problems.add(where + "recipient_kind", "收款方类型须为 unit（用款单位）或 city（地市）")
    if rk is not None and kind != "recipient":
        problems.add(where + "recipient_kind", "只有用款单位/地市节点才有收款方类型")
    out["recipient_kind"] = rk if kind == "recipient" else None
    if kind == "recipient" and rk is None:
        out["recipient_kind"] = "unit"
    impl = (data.implementation or "").strip() or None
    if impl is not None and impl not in IMPLEMENTATIONS:
        problems.add(where + "implementation", f"实施方式须为 {'、'.join(IMPLEMENTATION_LABELS.values())} 之一")
    out["implementation"] = impl
    out["unit_id"] = None
    if data.unit_id is not None:
        if kind != "recipient":
            problems.add(where + "unit_id", "只有用款单位节点可以关联单位账号")
        elif session.get(Unit, data.unit_id) is None:
            problems.add(where + "unit_id", "关联的单位不存在")
        else:
            out["unit_id"] = data.unit_id
    out["purpose"] = (data.purpose or "").strip() or None
    own = None
    if data.own_score not in (None, ""):
        try:
            own = Decimal(str(data.own_score).strip())
            if not own.is_finite() or own < 0 or own > 100 or own != own.quantize(Decimal("0.01")):
                raise InvalidOperation
        except InvalidOperation:
            problems.add(where + "own_score", "处室自评得分须为 0 至 100 的数，最多 2 位小数")
            own = None
        if own is not None and kind != "division":
            problems.add(where + "own_score", "只有处室节点记录其自评得分")
    out["own_score"] = own
    out["own_score_note"] = (data.own_score_note or "").strip() or None
    out["position"] = data.position
    return out


def _check_parent(session: Session, fund: SpecialFund, parent_id: int | None, node_id: int | None, problems, where=""):
    if parent_id is None:
        return None
    parent = session.get(FundNode, parent_id)
    if parent is None or parent.fund_id != fund.id:
        problems.add(where + "parent_id", "上级节点不存在（须属于同一专项资金）")
        return None
    if parent.kind == "recipient":
        problems.add(where + "parent_id", "用款单位/地市是末级节点，下面不能再分配")
    # no cycle: the parent must not lie below the node itself
    cursor: FundNode | None = parent
    depth = 0
    while cursor is not None:
        if node_id is not None and cursor.id == node_id:
            problems.add(where + "parent_id", "不能把节点移到它自己的下级之下")
            break
        depth += 1
        cursor = session.get(FundNode, cursor.parent_id) if cursor.parent_id is not None else None
    if depth >= MAX_DEPTH:
        problems.add(where + "parent_id", f"资金分配树最多 {MAX_DEPTH} 级")
    return parent


def add_node(
    *, session: Session, principal: Principal, fund_id: int, data: NodeFields, version: int | None = None
) -> FundNode:
    """Add one node under the fund or under another node of it (based on the fund's `version`, when given)."""
    fund, evaluation = _editable(session, principal, fund_id)
    _claim(session, fund, version)
    problems = Problems()
    values = _check_node(session, fund, data, problems)
    _check_parent(session, fund, data.parent_id, None, problems)
    count = session.exec(select(sa.func.count()).select_from(FundNode).where(FundNode.fund_id == fund.id)).one()
    if count >= MAX_NODES:
        problems.add("parent_id", f"一个专项资金最多 {MAX_NODES} 个节点")
    problems.raise_if_any()
    if values["position"] is None:
        values["position"] = count + 1
    node = FundNode(fund_id=fund.id, parent_id=data.parent_id, **values)  # type: ignore[arg-type]
    session.add(node)
    session.flush()
    _touch(session, principal, fund, evaluation)
    audit.record(
        session=session,
        actor=principal,
        stream=fund_stream(fund.id),  # type: ignore[arg-type]
        action="fund.node.add",
        entity_type="fund_node",
        entity_id=node.id,
        after=_node_json(node),
    )
    session.commit()
    return node


def update_node(
    *, session: Session, principal: Principal, node_id: int, data: NodeFields, version: int | None = None
) -> FundNode:
    """Replace one node's fields (its parent too); 409 when the fund moved on from `version`."""
    node = visible_node(session=session, principal=principal, node_id=node_id)
    fund, evaluation = _editable(session, principal, node.fund_id)
    _claim(session, fund, version)
    problems = Problems()
    values = _check_node(session, fund, data, problems, node_id=node.id)
    _check_parent(session, fund, data.parent_id, node.id, problems)
    has_children = session.exec(select(FundNode.id).where(FundNode.parent_id == node.id)).first() is not None
    if has_children and values["kind"] == "recipient":
        problems.add("kind", "该节点下还有下级，不能改为用款单位/地市（末级）")
    problems.raise_if_any()
    before = _node_json(node)
    if values["position"] is None:
        values["position"] = node.position
    for key, value in values.items():
        setattr(node, key, value)
    node.parent_id = data.parent_id
    node.updated_at = _now()
    session.add(node)
    _touch(session, principal, fund, evaluation)
    audit.record(
        session=session,
        actor=principal,
        stream=fund_stream(fund.id),  # type: ignore[arg-type]
        action="fund.node.update",
        entity_type="fund_node",
        entity_id=node.id,
        before=before,
        after=_node_json(node),
    )
    session.commit()
    return node


def delete_node(*, session: Session, principal: Principal, node_id: int, version: int | None = None) -> None:
    """Remove a node and everything below it (deductions naming them keep their reason, lose the link)."""
    node = visible_node(session=session, principal=principal, node_id=node_id)
    fund, evaluation = _editable(session, principal, node.fund_id)
    _claim(session, fund, version)
    nodes = _nodes(session, fund.id)  # type: ignore[arg-type]
    doomed = {node.id}
    changed = True
    while changed:
        changed = False
        for n in nodes:
            if n.parent_id in doomed and n.id not in doomed:
                doomed.add(n.id)
                changed = True
    _drop_nodes(session, doomed, nodes)
    _touch(session, principal, fund, evaluation)
    audit.record(
        session=session,
        actor=principal,
        stream=fund_stream(fund.id),  # type: ignore[arg-type]
        action="fund.node.delete",
        entity_type="fund_node",
        entity_id=node_id,
        before={"name": node.name, "removed": len(doomed)},
    )
    session.commit()


def _drop_nodes(session: Session, doomed: set, nodes: Sequence[FundNode]) -> None:
    if not doomed:
        return
    session.execute(sa.update(FundDeduction).where(FundDeduction.node_id.in_(doomed)).values(node_id=None))
    # children before parents (the parent_id foreign key)
    depth = {}
    by_id = {n.id: n for n in nodes}
    for key in doomed:
        d, cursor = 0, by_id[key]
        while cursor.parent_id is not None and cursor.parent_id in by_id:
            d, cursor = d + 1, by_id[cursor.parent_id]
        depth[key] = d
    for key in sorted(doomed, key=lambda k: -depth[k]):
        session.execute(sa.delete(FundNode).where(FundNode.id == key))


def _node_json(node: FundNode) -> dict[str, Any]:
    return {
        "kind": node.kind,
        "name": node.name,
        "parent_id": node.parent_id,
        "allocated": str(node.allocated),
        "spent": None if node.spent is None else str(node.spent),
        "arrived": None if node.arrived is None else str(node.arrived),
    }


def report_spending(
    *,
    session: Session,
    principal: Principal,
    node_id: int,
    spent: Any,
    arrived: Any = None,
    arrival_dates: str | None = None,
    version: int | None = None,
) -> FundNode:
    """A recipient unit reports its own node's 实际支出 (and 到位) while the fund's evaluation is open."""
    node = visible_node(session=session, principal=principal, node_id=node_id)
    if principal.role != "unit" or node.unit_id is None or node.unit_id != principal.unit_id:
        raise PermissionDenied("只有该节点关联的用款单位可以填报本节点的实际支出")
    fund = session.get(SpecialFund, node.fund_id)
    evaluation = _evaluation(session, fund)  # type: ignore[arg-type]
    if not lifecycle.may(principal, "report", evaluation.status, table=_fund_table()):
        if lifecycle.may(lifecycle.RoleOnly(principal.role), "report", evaluation.status, table=_fund_table()):
            raise PermissionDenied("此令牌没有「填报」权限（write），不能填报实际支出")
        if any(r.action == "report" and r.role == principal.role for r in _fund_table()):
            raise Conflict(f"专项资金自评当前状态为“{lifecycle.STATUS_LABELS[evaluation.status]}”，不能再填报实际支出")
        raise PermissionDenied("您的账号不能填报实际支出")
    problems = Problems()
    amount = parse_money(spent, "spent", "实际支出", problems)
    got = parse_money(arrived, "arrived", "到位金额", problems)
    dates = (arrival_dates or "").strip() or None
    if dates is not None and len(dates) > 200:
        problems.add("arrival_dates", "到位时间不能超过 200 个字符")
    problems.raise_if_any()
    _claim(session, fund, version)  # type: ignore[arg-type]
    before = _node_json(node)
    node.spent, node.arrived, node.arrival_dates = amount, got, dates
    node.updated_at = _now()
    session.add(node)
    _store_score(session, fund, evaluation)  # type: ignore[arg-type]
    audit.record(
        session=session,
        actor=principal,
        stream=fund_stream(fund.id),  # type: ignore[arg-type]
        action="fund.node.report",
        entity_type="fund_node",
        entity_id=node.id,
        before=before,
        after=_node_json(node),
    )
    session.commit()
    return node


@dataclass
class TreeRow:
    """One row of an imported tree: the names from the top down to its parent, and its fields."""

    path: tuple[str, ...]
    fields: NodeFields
    place: str  # where it came from, for messages (e.g. "第 5 行")
    unit_name: str | None = None


def replace_tree(
    *, session: Session, principal: Principal, fund_id: int, rows: Sequence[TreeRow], version: int | None = None
) -> int:
    """Replace the fund's whole tree with these rows, all or nothing; errors name their row and column."""
    fund, evaluation = _editable(session, principal, fund_id)
    _claim(session, fund, version)
    problems = Problems()
    if len(rows) > MAX_NODES:
        problems.add("rows", f"一个专项资金最多 {MAX_NODES} 个节点，文件有 {len(rows)} 行")
        problems.raise_if_any()
    seen: dict[tuple[str, ...], TreeRow] = {}
    units = {u.name: u.id for u in session.exec(select(Unit)).all()}
    values: list[dict[str, Any]] = []
    for row in rows:
        where = f"{row.place}."
        key = (*row.path, row.fields.name.strip())
        if len(row.path) >= MAX_DEPTH:
            problems.add(where + "parent_id", f"资金分配树最多 {MAX_DEPTH} 级")
        if key in seen:
            problems.add(where + "name", f"与{seen[key].place}重复：同一上级下的名称须唯一")
        if row.path and tuple(row.path) not in seen:
            problems.add(where + "parent_id", f"上级「{' / '.join(row.path)}」不在它之前的行中")
        elif row.path and seen[tuple(row.path)].fields.kind == "recipient":
            problems.add(where + "parent_id", "用款单位/地市是末级节点，下面不能再分配")
        if row.unit_name:
            if row.unit_name not in units:
                problems.add(where + "unit_id", f"单位「{row.unit_name}」不存在")
            else:
                row.fields.unit_id = units[row.unit_name]
        seen.setdefault(key, row)
        values.append(_check_node(session, fund, row.fields, problems, where=where))
    problems.raise_if_any(f"导入未完成：共 {len(problems.items)} 处错误，文件中的内容一条也没有写入")
    _drop_nodes(session, {n.id for n in _nodes(session, fund.id)}, _nodes(session, fund.id))  # type: ignore[arg-type]
    ids: dict[tuple[str, ...], int] = {}
    for position, (row, vals) in enumerate(zip(rows, values, strict=True), 1):
        vals["position"] = position
        node = FundNode(fund_id=fund.id, parent_id=ids.get(tuple(row.path)) if row.path else None, **vals)  # type: ignore[arg-type]
        session.add(node)
        session.flush()
        ids[(*row.path, vals["name"])] = node.id  # type: ignore[assignment]
    _touch(session, principal, fund, evaluation)
    audit.record(
        session=session,
        actor=principal,
        stream=fund_stream(fund.id),  # type: ignore[arg-type]
        action="fund.tree.replace",
        entity_type="special_fund",
        entity_id=fund.id,
        after={"nodes": len(rows)},
    )
    session.commit()
    return len(rows)


def tree_rows(view: FundView) -> list[dict[str, Any]]:
    """The tree as rows (parent path, then the node's fields): what the xlsx template holds."""
    return [
        {
            "path": v.path,
            "kind": v.node.kind,
            "name": v.node.name,
            "recipient_kind": v.node.recipient_kind,
            "unit_name": v.unit_name,
            "allocated": v.node.allocated,
            "arrived": v.node.arrived,
            "arrival_dates": v.node.arrival_dates,
            "spent": v.node.spent,
            "implementation": v.node.implementation,
            "purpose": v.node.purpose,
            "own_score": v.node.own_score,
            "own_score_note": v.node.own_score_note,
        }
        for v in view.nodes
    ]


# --- the evaluation: deductions and the lifecycle ------------------------------------------------


def add_deduction(
    *,
    session: Session,
    principal: Principal,
    fund_id: int,
    item_code: str,
    points: Any,
    reason: str,
    indicator: str | None = None,
    node_id: int | None = None,
    version: int | None = None,
) -> FundDeduction:
    """Record one deduction against an item of the fund's template (points, reason, optionally what it concerns)."""
    fund, evaluation = _editable(session, principal, fund_id)
    _claim(session, fund, version)
    template = session.get(ScoringTemplate, evaluation.template_id)
    items = item_codes(templates.settings_of(template))  # type: ignore[arg-type]
    problems = Problems()
    item = items.get((item_code or "").strip())
    if item is None:
        problems.add("item_code", f"评分模板中没有代号为「{item_code}」的项目")
    elif item.method != "deductions":
        problems.add("item_code", f"项目「{item.name}」不是扣分制（{item.method}），不能记录扣分")
    value = None
    try:
        value = Decimal(str(points).strip())
        if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
            raise InvalidOperation
        if item is not None and value > Decimal(item.points):
            problems.add("points", f"扣分不能超过该项目的分值 {item.points}")
    except InvalidOperation:
        problems.add("points", "扣分须为正数，最多 2 位小数，如 0.5")
    if not (reason or "").strip():
        problems.add("reason", "请写明扣分理由")
    elif len(reason) > 2000:
        problems.add("reason", "扣分理由不能超过 2000 个字符")
    if indicator is not None and len(indicator) > 200:
        problems.add("indicator", "所涉指标不能超过 200 个字符")
    if node_id is not None:
        node = session.get(FundNode, node_id)
        if node is None or node.fund_id != fund.id:
            problems.add("node_id", "所涉节点不存在（须属于该专项资金）")
    problems.raise_if_any()
    row = FundDeduction(
        evaluation_id=evaluation.id,  # type: ignore[arg-type]
        item_code=item.code,  # type: ignore[union-attr]
        points=value,  # type: ignore[arg-type]
        reason=reason.strip(),
        indicator=(indicator or "").strip() or None,
        node_id=node_id,
        created_by_id=principal.user_id,
    )
    session.add(row)
    session.flush()
    _touch(session, principal, fund, evaluation)
    _store_score(session, fund, evaluation)
    audit.record(
        session=session,
        actor=principal,
        stream=fund_stream(fund.id),  # type: ignore[arg-type]
        action="fund.deduction.add",
        entity_type="fund_deduction",
        entity_id=row.id,
        after={"item": row.item_code, "points": str(row.points), "reason": row.reason},
    )
    session.commit()
    return row


def remove_deduction(
    *, session: Session, principal: Principal, fund_id: int, deduction_id: int, version: int | None = None
) -> None:
    """Take back one recorded deduction."""
    fund, evaluation = _editable(session, principal, fund_id)
    _claim(session, fund, version)
    row = session.get(FundDeduction, deduction_id)
    if row is None or row.evaluation_id != evaluation.id:
        raise NotFound("扣分记录不存在")
    before = {"item": row.item_code, "points": str(row.points), "reason": row.reason}
    session.delete(row)
    session.flush()
    _touch(session, principal, fund, evaluation)
    _store_score(session, fund, evaluation)
    audit.record(
        session=session,
        actor=principal,
        stream=fund_stream(fund.id),  # type: ignore[arg-type]
        action="fund.deduction.remove",
        entity_type="fund_deduction",
        entity_id=deduction_id,
        before=before,
    )
    session.commit()


def _store_score(session: Session, fund: SpecialFund, evaluation: FundEvaluation) -> FundScore:
    template = session.get(ScoringTemplate, evaluation.template_id)
    rows = session.exec(select(FundDeduction).where(FundDeduction.evaluation_id == evaluation.id)).all()
    tree = _tree(fund.total, _nodes(session, fund.id))  # type: ignore[arg-type]
    score = score_fund(
        settings=templates.settings_of(template),  # type: ignore[arg-type]
        figures=tree.figures(),
        deductions=[_deduction(d) for d in rows],
        indicators=indicator_inputs(fund_indicators(session, fund.id), fund.year),  # type: ignore[arg-type]
    )
    evaluation.total_score = score.total if score.complete else None
    evaluation.grade = score.grade
    session.add(evaluation)
    return score


def act(
    *,
    session: Session,
    principal: Principal,
    fund_id: int,
    action: str,
    opinion: str | None = None,
    version: int | None = None,
) -> FundEvaluation:
    """One row of the fund's transitions: submit, withdraw, approve, return or reopen."""
    fund = visible_fund(session=session, principal=principal, fund_id=fund_id)
    evaluation = _evaluation(session, fund)
    if version is not None and version != evaluation.version:
        raise Conflict("这份专项资金自评已被他人或其他窗口修改，请刷新后再操作")
    table = _fund_table()
    roles = lifecycle.roles_for(action, table)
    if principal.role not in roles:
        raise PermissionDenied(f"您的账号不能{lifecycle.ACTION_VERBS.get(action, action)}专项资金自评")
    reviewed = evaluation.reviewed_at is not None
    row = lifecycle.transition(principal, action, evaluation.status, reviewed=reviewed, table=table)
    if row is None:
        if lifecycle.may(lifecycle.RoleOnly(principal.role), action, evaluation.status, reviewed=reviewed, table=table):
            raise PermissionDenied(f"此令牌没有「{action}」所需的权限")
        raise Conflict(lifecycle.refusal(action, evaluation.status))
    if row.opinion_required and not (opinion or "").strip():
        raise ValidationFailed("请填写意见", errors=[])
    problems = Problems()
    if action == "submit":
        score = _store_score(session, fund, evaluation)
        if not score.complete:
            problems.add("score", f"以下项目尚不能计分：{'、'.join(score.missing)}（请先填全实际支出等数据）")
        problems.raise_if_any("尚不能送审")
    before = evaluation.status
    evaluation.status = lifecycle.target_status(row, evaluation.status)
    now = _now()
    if action == "submit":
        evaluation.submitted_by_id, evaluation.submitted_at = principal.user_id, now
        evaluation.reviewed_at = evaluation.reviewed_by_id = None
    elif action in ("approve", "return", "reopen"):
        evaluation.reviewed_by_id, evaluation.reviewed_at = principal.user_id, now
        if opinion:
            evaluation.review_opinion = opinion.strip()
    evaluation.version += 1
    evaluation.updated_at = now
    session.add(evaluation)
    audit.record(
        session=session,
        actor=principal,
        stream=fund_stream(fund.id),  # type: ignore[arg-type]
        action=f"fund.{action}",
        entity_type="fund_evaluation",
        entity_id=evaluation.id,
        before={"status": before},
        after={"status": evaluation.status},
        note=(opinion or "").strip() or None,
    )
    session.commit()
    return evaluation


def departments(*, session: Session, principal: Principal) -> list[Department]:
    """The departments a fund may be created for by this caller."""
    if principal.role == "department":
        row = session.get(Department, principal.department_id) if principal.department_id else None
        return [row] if row else []
    return list(session.exec(select(Department).order_by(Department.name)).all())


# --- the xlsx template: export and import ---------------------------------------------------------


def tree_xlsx(view: FundView) -> bytes:
    """The fund's tree as the import template (one row per node with its parent path); text never a formula."""
    import io

    from openpyxl import Workbook

    from app.importers import fund_tree as template
    from app.services.spreadsheet import set_cell

    book = Workbook()
    sheet = book.active
    sheet.title = template.SHEET
    for k, header in enumerate(template.COLUMNS, 1):
        set_cell(sheet.cell(row=1, column=k), header)
    for r, row in enumerate(tree_rows(view), 2):
        values = (
            template.SEPARATOR.join(row["path"]),
            NODE_KIND_LABELS[row["kind"]],
            row["name"],
            RECIPIENT_KIND_LABELS[row["recipient_kind"]] if row["recipient_kind"] else None,
            row["unit_name"],
            row["allocated"],
            row["arrived"],
            row["arrival_dates"],
            row["spent"],
            IMPLEMENTATION_LABELS[row["implementation"]] if row["implementation"] else None,
            row["purpose"],
            row["own_score"],
            row["own_score_note"],
        )
        for k, value in enumerate(values, 1):
            if value is not None:
                set_cell(sheet.cell(row=r, column=k), value)
    for k, width in enumerate((36, 10, 36, 10, 24, 16, 16, 16, 16, 12, 40, 12, 30), 1):
        sheet.column_dimensions[sheet.cell(row=1, column=k).column_letter].width = width
    notes = book.create_sheet("说明")
    set_cell(notes.cell(row=1, column=1), "列")
    set_cell(notes.cell(row=1, column=2), "填写说明")
    for r, (column, text) in enumerate(template.HELP, 2):
        set_cell(notes.cell(row=r, column=1), column)
        set_cell(notes.cell(row=r, column=2), text)
    set_cell(
        notes.cell(row=len(template.HELP) + 3, column=1),
        f"专项资金：{view.fund.name}（{view.fund.year} 年度，总额 {view.fund.total} 万元）。"
        "导入时整张表替换现有的资金分配，有任何错误则一行也不写入。",
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def import_tree(
    *,
    session: Session,
    principal: Principal,
    fund_id: int,
    data: bytes,
    filename: str,
    limits=None,
    version: int | None = None,
) -> int:
    """Replace the fund's tree from the xlsx template, all or nothing; every error names its row and column."""
    from app.importers import fund_tree as template

    _editable(session, principal, fund_id)  # refused before the file is read
    read = template.read_fund_tree(data, filename=filename, limits=limits)
    errors = [p for p in read.problems if p.severity == "error"]
    if errors:
        problems = Problems()
        for p in errors:
            problems.add(p.place.describe(), p.message)
        problems.raise_if_any(f"导入未完成：共 {len(errors)} 处错误，文件中的内容一条也没有写入")
    if not read.rows:
        raise ValidationFailed("文件中没有任何节点行：请在“资金分配”工作表中逐行填写")
    rows = [
        TreeRow(
            path=r.path,
            fields=NodeFields(**{k: v for k, v in r.values.items()}),  # type: ignore[arg-type]
            place=f"第{r.row}行",
            unit_name=r.unit_name,
        )
        for r in read.rows
    ]
    try:
        return replace_tree(session=session, principal=principal, fund_id=fund_id, rows=rows, version=version)
    except ValidationFailed as exc:
        for error in exc.errors:
            place, _, key = error.field.partition(".")
            column = template.FIELD_COLUMNS.get(key, key)
            error.field = f"{filename} {place}“{column}”列"
        raise


# --- the fund's own 绩效目标 indicators ------------------------------------------------------------


@dataclass
class IndicatorFields:
    """One 绩效目标 indicator of a fund as a person gives it: the target, and (at year end) the actual."""

    level1: str
    name: str
    annual_target: str
    level2: str | None = None
    item_code: str | None = None  # the template item it is scored under ("按绩效指标计分"); None: listed only
    actual: str | None = None
    qualitative_level: str | None = None
    weight: Any = None
    deviation_reason: str | None = None
    position: int | None = None


def fund_indicators(session: Session, fund_id: int) -> list[FundIndicator]:
    return list(
        session.exec(
            select(FundIndicator)
            .where(FundIndicator.fund_id == fund_id)
            .order_by(FundIndicator.position, FundIndicator.id)
        ).all()
    )


def indicator_inputs(rows: Sequence[FundIndicator], year: int | None = None) -> dict[str, list[IndicatorInput]]:
    """The stored indicators as the scoring's inputs, by the template item they are scored under."""
    out: dict[str, list[IndicatorInput]] = {}
    for row in rows:
        if not row.item_code:
            continue
        out.setdefault(row.item_code, []).append(
            IndicatorInput(
                key=str(row.id),
                level1=row.level1,
                name=row.name,
                target=parse_target(row.annual_target, year=year),
                given_weight=row.weight,
                actual=parse_target(row.actual, year=year) if row.actual else None,
                qualitative_level=row.qualitative_level,
                deviation_reason=row.deviation_reason,
                level2=row.level2,
            )
        )
    return out


def _check_indicator(session: Session, evaluation: FundEvaluation, data: IndicatorFields) -> dict[str, Any]:
    problems = Problems()
    out: dict[str, Any] = {}
    level1 = level1_from_text(data.level1 or "") if data.level1 not in LEVEL1_BY_SLUG else LEVEL1_BY_SLUG[data.level1]
    if level1 is None:
        problems.add("level1", "一级指标须为 产出指标、效益指标、满意度指标 或 成本指标（也可写 output 等代号）")
    out["level1"] = level1.slug if level1 else data.level1
    level2 = None
    if (data.level2 or "").strip():
        text = data.level2.strip()  # type: ignore[union-attr]
        level2 = LEVEL2_BY_SLUG.get(text) or level2_from_text(text)
        if level2 is None:
            problems.add("level2", f"无法识别的二级指标「{text}」（如 数量指标、质量指标、时效指标）")
    out["level2"] = level2.slug if level2 else None
    name = (data.name or "").strip()
    if not name:
        problems.add("name", "请填写三级指标名称")
    elif len(name) > 500:
        problems.add("name", "三级指标名称不能超过 500 个字符")
    out["name"] = name
    target = (data.annual_target or "").strip()
    if not target:
        problems.add("annual_target", "请填写年度指标值，如 ≥872家")
    elif len(target) > 2000:
        problems.add("annual_target", "年度指标值不能超过 2000 个字符")
    out["annual_target"] = target
    actual = (data.actual or "").strip() or None
    if actual is not None and len(actual) > 2000:
        problems.add("actual", "实际完成值不能超过 2000 个字符")
    out["actual"] = actual
    level = (data.qualitative_level or "").strip() or None
    if level is not None and level not in QUALITATIVE_LEVELS:
        problems.add("qualitative_level", f"达成程度须为 {'、'.join(QUALITATIVE_LEVELS)} 之一")
    out["qualitative_level"] = level
    code = (data.item_code or "").strip() or None
    if code is not None:
        template = session.get(ScoringTemplate, evaluation.template_id)
        items = item_codes(templates.settings_of(template))  # type: ignore[arg-type]
        item = items.get(code)
        if item is None:
            problems.add("item_code", f"评分模板中没有代号为「{code}」的项目")
        elif item.method != "indicators":
            problems.add("item_code", f"项目「{item.name}」不是按绩效指标计分的，指标不能计入它（可不填，只列示）")
    out["item_code"] = code
    weight = None
    if data.weight not in (None, ""):
        try:
            weight = Decimal(str(data.weight).strip())
            if not weight.is_finite() or weight < 0 or weight > 1000 or weight != weight.quantize(Decimal("0.01")):
                raise InvalidOperation
        except InvalidOperation:
            problems.add("weight", "分值须为 0 至 1000 的数，最多 2 位小数")
            weight = None
    out["weight"] = weight
    reason = (data.deviation_reason or "").strip() or None
    if reason is not None and len(reason) > 2000:
        problems.add("deviation_reason", "偏差原因不能超过 2000 个字符")
    out["deviation_reason"] = reason
    out["position"] = data.position
    problems.raise_if_any()
    return out


def _indicator_json(row: FundIndicator) -> dict[str, Any]:
    return {
        "name": row.name,
        "item_code": row.item_code,
        "annual_target": row.annual_target,
        "actual": row.actual,
        "qualitative_level": row.qualitative_level,
        "weight": None if row.weight is None else str(row.weight),
    }


def add_indicator(
    *, session: Session, principal: Principal, fund_id: int, data: IndicatorFields, version: int | None = None
) -> FundIndicator:
    """Add one 绩效目标 indicator to the fund (scored under its item when item_code names one)."""
    fund, evaluation = _editable(session, principal, fund_id)
    values = _check_indicator(session, evaluation, data)
    _claim(session, fund, version)
    if values["position"] is None:
        values["position"] = len(fund_indicators(session, fund.id)) + 1  # type: ignore[arg-type]
    row = FundIndicator(fund_id=fund.id, **values)  # type: ignore[arg-type]
    session.add(row)
    session.flush()
    _touch(session, principal, fund, evaluation)
    _store_score(session, fund, evaluation)
    audit.record(
        session=session,
        actor=principal,
        stream=fund_stream(fund.id),  # type: ignore[arg-type]
        action="fund.indicator.add",
        entity_type="fund_indicator",
        entity_id=row.id,
        after=_indicator_json(row),
    )
    session.commit()
    return row


def _own_indicator(session: Session, principal: Principal, indicator_id: int) -> FundIndicator:
    row = session.get(FundIndicator, indicator_id)
    if row is None:
        raise NotFound("绩效指标不存在或无权查看")
    try:
        fund = visible_fund(session=session, principal=principal, fund_id=row.fund_id)
    except NotFound:
        raise NotFound("绩效指标不存在或无权查看") from None
    if principal.role == "unit":
        raise NotFound("绩效指标不存在或无权查看")
    del fund
    return row


def update_indicator(
    *, session: Session, principal: Principal, indicator_id: int, data: IndicatorFields, version: int | None = None
) -> FundIndicator:
    """Replace one indicator's fields (its actual too); the fund is scored again."""
    row = _own_indicator(session, principal, indicator_id)
    fund, evaluation = _editable(session, principal, row.fund_id)
    values = _check_indicator(session, evaluation, data)
    _claim(session, fund, version)
    before = _indicator_json(row)
    if values["position"] is None:
        values["position"] = row.position
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = _now()
    session.add(row)
    session.flush()
    _touch(session, principal, fund, evaluation)
    _store_score(session, fund, evaluation)
    audit.record(
        session=session,
        actor=principal,
        stream=fund_stream(fund.id),  # type: ignore[arg-type]
        action="fund.indicator.update",
        entity_type="fund_indicator",
        entity_id=row.id,
        before=before,
        after=_indicator_json(row),
    )
    session.commit()
    return row


def delete_indicator(*, session: Session, principal: Principal, indicator_id: int, version: int | None = None) -> int:
    """Remove one indicator; answers the fund's id."""
    row = _own_indicator(session, principal, indicator_id)
    fund, evaluation = _editable(session, principal, row.fund_id)
    _claim(session, fund, version)
    before = _indicator_json(row)
    session.delete(row)
    session.flush()
    _touch(session, principal, fund, evaluation)
    _store_score(session, fund, evaluation)
    audit.record(
        session=session,
        actor=principal,
        stream=fund_stream(fund.id),  # type: ignore[arg-type]
        action="fund.indicator.delete",
        entity_type="fund_indicator",
        entity_id=indicator_id,
        before=before,
    )
    session.commit()
    return fund.id  # type: ignore[return-value]


def indicator_fund(*, session: Session, principal: Principal, indicator_id: int) -> int:
    """The id of the fund an indicator the caller may see belongs to."""
    return _own_indicator(session, principal, indicator_id).fund_id
