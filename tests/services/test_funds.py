"""Special funds through the service, on SQLite and PostgreSQL: the seed's figures out of a fund
entered from the seed, tenancy (a recipient never sees a sibling), the lifecycle's fund rows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from app.models import FundNode, Unit
from app.security import Principal
from app.services import funds
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests import factories
from tests.funds.seed import enter

D = Decimal
FINANCE = Principal(role="finance", name="caizhengju")


def test_the_seed_fund_scores_96_8_from_its_tree(session):
    fund = enter(session)
    view = funds.fund_view(session=session, principal=FINANCE, fund_id=fund.id)
    assert view.figures.allocated == D("57550") and view.figures.spent == D("56022.2398")
    assert view.figures.execution_rate == D("97.35")
    assert view.score.item("211").score == D("5.8")  # 资金支出率, computed from the spending summed up the tree
    assert [c.score for c in view.score.categories] == [D("19.5"), D("19.8"), D("28"), D("29.5")]
    assert view.score.total == D("96.8") and view.score.grade == "优"
    assert view.evaluation.total_score == D("96.8") and view.evaluation.status == "draft"
    # the declared 97.42% is kept and flagged against the recomputed 97.35 (never corrected)
    declared = {d.key: d for d in view.declared}
    assert declared["execution_rate"].declared == D("97.42") and declared["execution_rate"].differs
    assert not declared["total_score"].differs
    # the 处室's own scores are there and are not the total's parts
    assert [(v.node.name, v.node.own_score) for v in view.divisions()] == [
        ("电子信息工业处", D("100")),
        ("信息化与软件服务业处", D("99")),
        ("工业互联网处", D("96.2")),
    ]
    assert all(v.figures.flags == () for v in view.nodes)
    # money survives exactly on both databases
    session.expire_all()
    cloud = session.exec(select(FundNode).where(FundNode.name == "支持工业企业“上云上平台”")).one()
    assert cloud.spent == D("19152.0098")


def test_a_changed_spending_moves_the_computed_item(session):
    fund = enter(session)
    node = session.exec(select(FundNode).where(FundNode.name == "广东省通信管理局")).one()
    fields = funds.NodeFields(kind="recipient", name=node.name, allocated="500", spent="500", parent_id=node.parent_id)
    funds.update_node(session=session, principal=FINANCE, node_id=node.id, data=fields)
    view = funds.fund_view(session=session, principal=FINANCE, fund_id=fund.id)
    assert view.figures.spent == D("56522.2398") and view.score.item("211").score == D("5.9")


def test_a_child_sum_that_differs_is_flagged_at_the_node(session):
    fund = enter(session, deductions=False)
    node = session.exec(select(FundNode).where(FundNode.name == "广州珠江数码集团股份有限公司")).one()
    fields = funds.NodeFields(kind="recipient", name=node.name, allocated="64.5", spent="64", parent_id=node.parent_id)
    funds.update_node(session=session, principal=FINANCE, node_id=node.id, data=fields)
    view = funds.fund_view(session=session, principal=FINANCE, fund_id=fund.id)
    item = next(v for v in view.nodes if v.node.name == "4K电视用户推广")
    assert item.figures.flags == ("allocation_mismatch",) and item.figures.allocation_difference == D("-0.5")
    assert item.node.allocated == D("1840")


@pytest.fixture
def recipients(session):
    fund = enter(session, deductions=False)
    mobile = factories.unit(session, "中国移动通信集团广东有限公司")
    tianwei = factories.unit(session, "深圳市天威视讯股份有限公司")
    for unit in (mobile, tianwei):
        for node in session.exec(select(FundNode).where(FundNode.name == unit.name)):
            node.unit_id = unit.id
            session.add(node)
    session.commit()
    return fund, mobile, tianwei


def _as_unit(unit: Unit) -> Principal:
    return Principal(role="unit", name=unit.name, unit_id=unit.id)


def test_a_recipient_sees_its_nodes_and_ancestors_never_a_sibling(session, recipients):
    fund, mobile, tianwei = recipients
    view = funds.fund_view(session=session, principal=_as_unit(mobile), fund_id=fund.id)
    names = [v.node.name for v in view.nodes]
    assert names == [
        "电子信息工业处",
        "4K电视用户推广",
        "中国移动通信集团广东有限公司",
        "信息化与软件服务业处",
        "乡村信息基础设施建设等项目",
        "全省乡村信息基础设施和100M光纤提速建设",
        "中国移动通信集团广东有限公司",
    ]
    assert [v.ancestor_only for v in view.nodes] == [True, True, False, True, True, True, False]
    assert view.evaluation is None and view.score is None and view.deductions == () and not view.whole_tree
    sibling = session.exec(select(FundNode).where(FundNode.name == "深圳市天威视讯股份有限公司")).one()
    with pytest.raises(NotFound):
        funds.visible_node(session=session, principal=_as_unit(mobile), node_id=sibling.id)
    own = funds.visible_node(session=session, principal=_as_unit(tianwei), node_id=sibling.id)
    assert own.allocated == D("49")
    # a unit named nowhere in the fund does not see the fund at all
    stranger = factories.unit(session, "无关单位")
    with pytest.raises(NotFound):
        funds.fund_view(session=session, principal=_as_unit(stranger), fund_id=fund.id)
    assert funds.list_funds(session=session, principal=_as_unit(stranger)) == []
    # and a unit cannot change anything
    with pytest.raises(PermissionDenied):
        funds.add_deduction(
            session=session, principal=_as_unit(mobile), fund_id=fund.id, item_code="42", points="1", reason="x"
        )


def test_departments_see_and_create_only_their_own(session):
    fund = enter(session, deductions=False)
    other = factories.department(session, "广东省财政厅业务处")
    outsider = Principal(role="department", name="other", department_id=other.id)
    with pytest.raises(NotFound):
        funds.fund_view(session=session, principal=outsider, fund_id=fund.id)
    with pytest.raises(PermissionDenied):
        funds.create_fund(
            session=session,
            principal=outsider,
            data=funds.FundFields(year=2020, name="甲", total="1", department_id=fund.department_id),
        )
    own = funds.create_fund(
        session=session, principal=outsider, data=funds.FundFields(year=2020, name="甲", total="1.000001")
    )
    assert own.department_id == other.id and own.total == D("1.000001")
    with pytest.raises(ValidationFailed) as err:
        funds.create_fund(session=session, principal=FINANCE, data=funds.FundFields(year=2020, name="", total="-1"))
    assert {e.field for e in err.value.errors} == {"name", "total", "department_id"}


def test_the_fund_lifecycle_is_rows_of_the_one_table(session):
    fund = enter(session)
    dept = Principal(role="department", name="gxt", department_id=fund.department_id)
    funds.act(session=session, principal=dept, fund_id=fund.id, action="submit")
    with pytest.raises(Conflict):  # submitted: the tree is frozen
        funds.add_deduction(session=session, principal=dept, fund_id=fund.id, item_code="42", points="1", reason="x")
    with pytest.raises(PermissionDenied):  # a department does not approve its own fund
        funds.act(session=session, principal=dept, fund_id=fund.id, action="approve")
    with pytest.raises(ValidationFailed):
        funds.act(session=session, principal=FINANCE, fund_id=fund.id, action="return")
    ev = funds.act(session=session, principal=FINANCE, fund_id=fund.id, action="return", opinion="请补充佐证")
    assert ev.status == "returned"
    funds.act(session=session, principal=dept, fund_id=fund.id, action="submit")
    assert funds.act(session=session, principal=FINANCE, fund_id=fund.id, action="approve").status == "approved"
    assert funds.act(session=session, principal=FINANCE, fund_id=fund.id, action="approve").status == "final"
    ev = funds.act(session=session, principal=FINANCE, fund_id=fund.id, action="reopen", opinion="数字有误")
    assert ev.status == "returned"


def test_submitting_needs_every_item_scored(session):
    dept = factories.department(session, "某厅")
    principal = Principal(role="department", name="d", department_id=dept.id)
    fund = funds.create_fund(
        session=session, principal=principal, data=funds.FundFields(year=2024, name="乙", total="10")
    )
    funds.add_node(session=session, principal=principal, fund_id=fund.id, data=funds.NodeFields("division", "处", "10"))
    with pytest.raises(ValidationFailed, match="尚不能送审"):
        funds.act(session=session, principal=principal, fund_id=fund.id, action="submit")


def test_an_imported_tree_is_all_or_nothing_with_row_and_column(session):
    fund = enter(session, deductions=False)
    before = len(funds.fund_view(session=session, principal=FINANCE, fund_id=fund.id).nodes)
    rows = [
        funds.TreeRow((), funds.NodeFields("division", "甲处", "57550"), "第 2 行"),
        funds.TreeRow(("甲处",), funds.NodeFields("recipient", "乙单位", "abc"), "第 3 行"),
        funds.TreeRow(("丙处",), funds.NodeFields("recipient", "丁单位", "1"), "第 4 行"),
    ]
    with pytest.raises(ValidationFailed) as err:
        funds.replace_tree(session=session, principal=FINANCE, fund_id=fund.id, rows=rows)
    fields = [e.field for e in err.value.errors]
    assert fields == ["第 3 行.allocated", "第 4 行.parent_id"]
    session.rollback()
    assert len(funds.fund_view(session=session, principal=FINANCE, fund_id=fund.id).nodes) == before
    ok = [rows[0], funds.TreeRow(("甲处",), funds.NodeFields("recipient", "乙单位", "57550", spent="1"), "第 3 行")]
    assert funds.replace_tree(session=session, principal=FINANCE, fund_id=fund.id, rows=ok) == 2
    view = funds.fund_view(session=session, principal=FINANCE, fund_id=fund.id)
    assert [v.path for v in view.nodes] == [(), ("甲处",)] and view.figures.spent == D("1")


def test_the_fund_rows_are_the_rule_take_one_out_and_the_action_is_refused(session, monkeypatch):
    from app.domain import evaluation as lifecycle

    fund = enter(session)
    dept = Principal(role="department", name="gxt", department_id=fund.department_id)
    rows = tuple(
        r for r in lifecycle.TRANSITIONS if not (r.subject == "fund" and (r.role, r.action) == ("department", "submit"))
    )
    assert len(rows) == len(lifecycle.TRANSITIONS) - 1
    monkeypatch.setattr(lifecycle, "TRANSITIONS", rows)
    assert "submit" not in funds.fund_view(session=session, principal=dept, fund_id=fund.id).actions
    with pytest.raises(PermissionDenied):
        funds.act(session=session, principal=dept, fund_id=fund.id, action="submit")
    # the project's own submit row is untouched
    assert lifecycle.may(lifecycle.RoleOnly("unit"), "submit", "draft")


def test_deleting_a_node_removes_its_subtree_and_keeps_deductions_reasons(session):
    fund = enter(session)
    division = session.exec(select(FundNode).where(FundNode.name == "工业互联网处")).one()
    funds.delete_node(session=session, principal=FINANCE, node_id=division.id)
    view = funds.fund_view(session=session, principal=FINANCE, fund_id=fund.id)
    assert [v.node.name for v in view.nodes if v.depth == 0] == ["电子信息工业处", "信息化与软件服务业处"]
    assert session.exec(select(FundNode).where(FundNode.name == "广东省通信管理局")).first() is None
    assert view.figures.flags == ("allocation_mismatch",) and view.figures.allocation_difference == D("30590")
    effect = next(d for d in view.deductions if d.item_code == "41")
    assert effect.node_id is None and "省通信管理局" in effect.reason
    assert view.score.item("41").score == D("24.5")
