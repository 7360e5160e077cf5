"""Demonstration data: the department and units of a published 绩效目标表 (seed 003 in
tests/data), named exactly as that table names them, one login each, and its projects as 2024;
and the 专项资金 of seed 000 (tests/data/seed_000_fund.json: its allocation tree, declared figures
and deductions, scoring 96.8) with a login for its 主管部门.

The names are read from the table itself, so no string of it is written in the code.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from app.models import Department, FundNode, Project, SpecialFund, Unit, User
from app.services import accounts
from app.services.errors import DomainError
from app.settings import ROOT

DEMO_PASSWORD = "jixiao-demo"
DEMO_SEED = ROOT / "tests" / "data" / "seed_003.txt"
DEMO_YEAR = 2024
# Logins of the table's units in the order they appear, after the department's own office.
OWN_OFFICE_LOGIN = "gongxinju_benji"
UNIT_LOGINS = ("chanye_zhongxin", "wuxian_jiancezhan")
DEMO_FUND = ROOT / "tests" / "data" / "seed_000_fund.json"
FUND_LOGIN = "gd_gongxinting"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    scope: str


def _seed_names() -> tuple[str, list[str]]:
    """(department, units in order of appearance) as the published table names them."""
    from app.importers.published import read_published

    result = read_published(DEMO_SEED.read_text(encoding="utf-8"), source=DEMO_SEED.name)
    department = next(p.department_name for p in result.projects if p.department_name)
    units: list[str] = []
    for p in result.projects:
        if p.unit_name and p.unit_name not in units:
            units.append(p.unit_name)
    return department, units


def demo_logins() -> list[DemoLogin]:
    department, units = _seed_names()
    others = [u for u in units if u != department]
    logins = [
        DemoLogin("admin", "admin", ""),
        DemoLogin("caizhengju", "finance", ""),
        DemoLogin("gongxinju", "department", department),
    ]
    if department in units:
        logins.append(DemoLogin(OWN_OFFICE_LOGIN, "unit", department))
    logins += [DemoLogin(name, "unit", unit) for name, unit in zip(UNIT_LOGINS, others, strict=False)]
    logins.append(DemoLogin(FUND_LOGIN, "department", _fund_seed()["fund"]["department"]))
    return logins


def _fund_seed() -> dict:
    import json

    return json.loads(DEMO_FUND.read_text(encoding="utf-8"))


def demo_loaded(*, session: Session) -> bool:
    """Whether the demo logins already exist."""
    return session.exec(select(User).where(User.username == "gongxinju")).first() is not None


def load_demo(*, session: Session) -> list[DemoLogin]:
    """Create the demo department, units and logins, and import the table as 2024 (idempotent)."""
    department_name, units = _seed_names()
    department = session.exec(select(Department).where(Department.name == department_name)).first()
    if department is None:
        department = Department(name=department_name)
        session.add(department)
        session.flush()
    for name in units:
        key = accounts.name_key(name)
        if session.exec(select(Unit).where(Unit.name_key == key)).first() is None:
            session.add(Unit(name=name, name_key=key, department_id=department.id))
    fund_department = _fund_seed()["fund"]["department"]
    if session.exec(select(Department).where(Department.name == fund_department)).first() is None:
        session.add(Department(name=fund_department))
    session.commit()
    logins = demo_logins()
    for login in logins:
        if session.exec(select(User).where(User.username == login.username)).first() is not None:
            continue
        accounts.add_user(
            session=session,
            username=login.username,
            password=DEMO_PASSWORD,
            role=login.role,
            unit=login.scope if login.role == "unit" else None,
            department=login.scope if login.role == "department" else None,
            display_name={"admin": "系统管理员", "finance": "财政局"}.get(login.role, ""),
            actor="demo",
        )
    if session.exec(select(Project).where(Project.year == DEMO_YEAR)).first() is None:
        from app.services import imports

        report = imports.import_file(
            session=session, data=DEMO_SEED.read_bytes(), filename=DEMO_SEED.name, year=DEMO_YEAR, actor="demo"
        )
        if not report.ok:
            raise DomainError("演示数据导入失败：" + "；".join(e["message"] for e in report.errors[:3]))
    load_demo_fund(session=session)
    return logins


def load_demo_fund(*, session: Session) -> int:
    """The seed's 专项资金 as its 主管部门 would enter it: fund, tree (one transaction), deductions."""
    from app.security import Principal
    from app.services import funds

    seed = _fund_seed()
    data = dict(seed["fund"])
    department = session.exec(select(Department).where(Department.name == data.pop("department"))).one()
    existing = session.exec(
        select(SpecialFund).where(SpecialFund.year == data["year"], SpecialFund.name == data["name"])
    ).first()
    if existing is not None:
        return existing.id  # type: ignore[return-value]
    actor = Principal(role="department", name="demo", department_id=department.id)
    fund = funds.create_fund(session=session, principal=actor, data=funds.FundFields(**data))
    rows: list[funds.TreeRow] = []
    keys = ("kind", "name", "allocated", "recipient_kind", "arrived", "arrival_dates", "spent", "implementation")
    keys += ("purpose", "own_score", "own_score_note")

    def walk(nodes: list[dict], path: tuple[str, ...]) -> None:
        for node in nodes:
            fields = funds.NodeFields(**{k: node[k] for k in keys if k in node})
            rows.append(funds.TreeRow(path=path, fields=fields, place=node["name"]))
            walk(node.get("children", []), (*path, node["name"]))

    walk(seed["tree"], ())
    funds.replace_tree(session=session, principal=actor, fund_id=fund.id, rows=rows)  # type: ignore[arg-type]
    by_name = {n.name: n.id for n in session.exec(select(FundNode).where(FundNode.fund_id == fund.id))}
    for d in seed["deductions"]:
        funds.add_deduction(
            session=session,
            principal=actor,
            fund_id=fund.id,  # type: ignore[arg-type]
            item_code=d["item"],
            points=d["points"],
            reason=d["reason"],
            indicator=d.get("indicator"),
            node_id=by_name.get(d["node"]) if "node" in d else None,
        )
    return fund.id  # type: ignore[return-value]
