"""Seed 000's fund (tests/data/seed_000_fund.json) entered through the service, as a person would."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session, select

from app.domain.funds import NodeInput
from app.models import FundNode
from app.security import Principal
from app.services import funds
from tests import factories

SEED = json.loads((Path(__file__).resolve().parents[1] / "data" / "seed_000_fund.json").read_text(encoding="utf-8"))
NODE_KEYS = ("kind", "name", "allocated", "recipient_kind", "arrived", "arrival_dates", "spent", "implementation")
NODE_KEYS += ("own_score", "own_score_note")


def walk(nodes=None, parent=None):
    """(node dict, parent dict) for every node of the seed tree, top down."""
    for node in SEED["tree"] if nodes is None else nodes:
        yield node, parent
        yield from walk(node.get("children", ()), node)


def node_inputs() -> list[NodeInput]:
    """The seed tree as the domain's inputs (keys are positions)."""
    keys = {id(n): i for i, (n, _) in enumerate(walk(), 1)}
    return [
        NodeInput(
            keys[id(n)],
            keys[id(p)] if p is not None else None,
            n["name"],
            Decimal(n["allocated"]),
            Decimal(n["arrived"]) if "arrived" in n else None,
            Decimal(n["spent"]) if "spent" in n else None,
        )
        for n, p in walk()
    ]


def enter(session: Session, principal: Principal | None = None, *, deductions: bool = True):
    """Create the department, the fund, its tree and (optionally) its deductions; return the fund."""
    dept = factories.department(session, SEED["fund"]["department"])
    principal = principal or Principal(role="finance", name="caizhengju")
    data = dict(SEED["fund"])
    data.pop("department")
    fund = funds.create_fund(session=session, principal=principal, data=funds.FundFields(**data, department_id=dept.id))
    ids: dict[int, int] = {}
    for node, parent in walk():
        fields = {k: node[k] for k in NODE_KEYS if k in node}
        row = funds.add_node(
            session=session,
            principal=principal,
            fund_id=fund.id,
            data=funds.NodeFields(**fields, parent_id=ids[id(parent)] if parent is not None else None),
        )
        ids[id(node)] = row.id
    if deductions:
        by_name = {n.name: n.id for n in session.exec(select(FundNode).where(FundNode.fund_id == fund.id))}
        for d in SEED["deductions"]:
            funds.add_deduction(
                session=session,
                principal=principal,
                fund_id=fund.id,
                item_code=d["item"],
                points=d["points"],
                reason=d["reason"],
                indicator=d.get("indicator"),
                node_id=by_name[d["node"]] if "node" in d else None,
            )
    return fund
