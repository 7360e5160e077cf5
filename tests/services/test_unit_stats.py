"""The maintained statistics (unit_stats, kept by database triggers) always equal a recount from
the base tables: after imports, revisions that delete indicators with actuals, saves, every
transition, project deletions, and writes that bypass the app (plain SQL)."""

from __future__ import annotations

import random
from dataclasses import asdict
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app.domain import evaluation as lifecycle
from app.models import Indicator, Project, SelfEvaluation, Unit, UnitStats, User
from app.security import Principal, principal_for_user
from app.services import evaluations, imports, queries, reviews, target_tables
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, WindowClosed
from app.services.evaluations import ResultInput
from tests import factories

YEAR = 2024
HEADER = (
    "年度,主管部门,单位名称,单位编码,项目名称,项目编码,年度预算数（万元）,实施周期目标,年度目标,一级指标,"
    "二级指标,三级指标,实施周期指标值,年度指标值,分值\n"
)
UNITS = [
    ("测试局甲", "甲单位", "U1"),
    ("测试局甲", "乙单位", "U2"),
    ("测试局乙", "丙单位", "U3"),
    ("测试局乙", "丁单位", "U4"),
]
INDICATORS = [
    ("产出指标", "数量指标", "报告", "≥{n}份"),
    ("产出指标", "时效指标", "完成时间", "2024年12月前"),
    ("效益指标", "社会效益", "服务能力", "提升"),
    ("满意度指标", "服务对象满意度", "满意度", "≥90%"),
]
REFUSED = (ValidationFailed, Conflict, PermissionDenied, WindowClosed, NotFound)
FINANCE = Principal(role="finance", name="czj")


def _csv(projects: dict[str, dict]) -> bytes:
    lines = [HEADER]
    for code, p in projects.items():
        dept, unit, unit_code = UNITS[p["unit"]]
        budget = "" if p["budget"] is None else p["budget"]
        for k in p["indicators"]:
            level1, level2, name, target = INDICATORS[k]
            target = target.format(n=p["n"])
            lines.append(
                f"{YEAR},{dept},{unit},{unit_code},项目{code},{code},{budget},目标,目标,{level1},{level2},{name},{target},{target},\n"
            )
    return "".join(lines).encode()


def _new_project(rng: random.Random) -> dict:
    return {
        "unit": rng.randrange(len(UNITS)),
        "budget": rng.choice([None, "100", "57550.25", "1"]),
        "n": rng.randint(1, 20),
        "indicators": sorted(rng.sample(range(len(INDICATORS)), rng.randint(1, len(INDICATORS)))),
    }


def _import(session, projects: dict[str, dict]) -> None:
    # drafts (草稿), which a re-import revises in place (approved tables it would not: test_reimport.py)
    report = imports.import_file(
        session=session, data=_csv(projects), filename="t.csv", year=YEAR, force=True, as_draft=True
    )
    assert not report.errors, report.errors


def _check(session, people: dict[str, Principal]) -> None:
    session.expire_all()
    for principal in (FINANCE, people["dept0"], people["dept1"]):
        for filters in (queries.ScopeFilters(year=YEAR), queries.ScopeFilters(year=YEAR, department="测试局乙")):
            got = queries.unit_stats(session=session, principal=principal, filters=filters, limit=1000)
            want = queries.recount_unit_stats(session=session, principal=principal, filters=filters)
            assert [asdict(s) for s in got] == [asdict(s) for s in want]
            got = queries.department_stats(session=session, principal=principal, filters=filters, limit=1000)
            want = queries.recount_department_stats(session=session, principal=principal, filters=filters)
            assert [asdict(s) for s in got] == [asdict(s) for s in want]


def _random_results(rng: random.Random, session, evaluation: SelfEvaluation) -> list[ResultInput]:
    inds = session.exec(select(Indicator).where(Indicator.project_id == evaluation.project_id)).all()
    results = []
    for ind in rng.sample(inds, rng.randint(1, len(inds))):
        item = ResultInput(indicator_id=ind.id)
        if ind.target_kind == "qualitative":
            item.qualitative_level = rng.choice([None, *lifecycle.LEVELS])
        elif ind.target_kind == "deadline":
            item.actual = rng.choice(["", "2024-11-30", "2025-03-01"])
        elif ind.annual_target.endswith("%"):
            item.actual = rng.choice(["", f"{rng.randint(60, 100)}%"])
        else:
            item.actual = rng.choice(["", f"{rng.randint(0, 25)}份"])
        item.deviation_reason = rng.choice([None, "原因已说明"])
        results.append(item)
    return results


def _complete_results(rng: random.Random, session, evaluation: SelfEvaluation) -> list[ResultInput]:
    inds = session.exec(select(Indicator).where(Indicator.project_id == evaluation.project_id)).all()
    results = []
    for ind in inds:
        item = ResultInput(indicator_id=ind.id, deviation_reason="原因已说明")
        if ind.target_kind == "qualitative":
            item.qualitative_level = rng.choice(lifecycle.LEVELS)
        elif ind.target_kind == "deadline":
            item.actual = "2024-11-30"
        elif ind.annual_target.endswith("%"):
            item.actual = f"{rng.randint(80, 100)}%"
        else:
            item.actual = f"{rng.randint(0, 25)}份"
        results.append(item)
    return results


@pytest.mark.parametrize("seed", [1, 2])
def test_maintained_stats_equal_a_recount_after_random_writes(session, seed):
    rng = random.Random(seed)
    depts = [factories.department(session, "测试局甲"), factories.department(session, "测试局乙")]
    projects = {f"P{i:03d}": _new_project(rng) for i in range(10)}
    _import(session, projects)
    units = {u.code: u for u in session.exec(select(Unit))}
    people: dict[str, Principal] = {"finance": FINANCE}
    for i, (_, _, code) in enumerate(UNITS):
        people[code] = principal_for_user(factories.user(session, f"u{i}", "unit", unit_row=units[code]))
    for i, dept in enumerate(depts):
        people[f"dept{i}"] = principal_for_user(factories.user(session, f"d{i}", "department", dept=dept))
    assert session.exec(select(sa.func.count()).select_from(User)).one() == 6
    _check(session, people)

    done: dict[str, int] = {}
    succeeded: dict[str, int] = {}
    for step in range(160):
        op = rng.choice(
            ["save"] * 6
            + ["submit"] * 4
            + ["withdraw", "approve", "approve", "return", "return", "final", "reopen", "import", "delete", "sql"]
        )
        evs = session.exec(select(SelfEvaluation).order_by(SelfEvaluation.id)).all()
        # reviews mostly pick what is waiting for them, so that the walk reaches every status
        waiting = {
            "withdraw": ("submitted",),
            "approve": ("submitted",),
            "return": ("submitted",),
            "final": ("approved",),
            "reopen": ("final",),
        }
        wanted = [e for e in evs if e.status in waiting.get(op, ())]
        ev = rng.choice(wanted or evs)
        project = session.get(Project, ev.project_id)
        unit = people[session.get(Unit, project.unit_id).code]
        dept = people["dept0"] if project.unit_id in (units["U1"].id, units["U2"].id) else people["dept1"]
        try:
            if op == "save":
                spent = rng.choice([evaluations.UNSET, None, "95", "120.5", "0"])
                evaluations.save(
                    session=session,
                    principal=unit,
                    evaluation_id=ev.id,
                    version=ev.version,
                    spent=spent,
                    results=_random_results(rng, session, ev),
                )
            elif op == "submit":
                if rng.random() < 0.8:  # mostly complete first: a submission that goes through
                    fresh = session.get(SelfEvaluation, ev.id)
                    evaluations.save(
                        session=session,
                        principal=unit,
                        evaluation_id=ev.id,
                        version=fresh.version,
                        spent="95",
                        results=_complete_results(rng, session, ev),
                    )
                evaluations.submit(session=session, principal=unit, evaluation_id=ev.id)
            elif op == "withdraw":
                evaluations.withdraw(session=session, principal=unit, evaluation_id=ev.id)
            elif op == "approve":
                reviews.approve(session=session, principal=dept, evaluation_id=ev.id)
            elif op == "return":
                reviews.return_(session=session, principal=dept, evaluation_id=ev.id, opinion="请补充")
            elif op == "final":
                reviews.approve(session=session, principal=FINANCE, evaluation_id=ev.id)
            elif op == "reopen":
                reviews.reopen(session=session, principal=FINANCE, evaluation_id=ev.id, opinion="重新核实")
            elif op == "import":
                # a revision: new projects, dropped indicators (their actuals deleted: --force), new budgets
                for _ in range(rng.randint(0, 2)):
                    projects[f"P{len(projects) + len(done):03d}"] = _new_project(rng)
                for p in rng.sample(list(projects.values()), 2):
                    if len(p["indicators"]) > 1:
                        p["indicators"].remove(rng.choice(p["indicators"]))
                    p["budget"] = rng.choice([None, "100", "88.5"])
                _import(session, projects)
            elif op == "delete":
                project.target_status = lifecycle.TARGET_FIRST_STATUS
                session.add(project)
                session.commit()
                target_tables.delete_project(
                    session=session, principal=unit, project_id=project.id, version=project.version
                )
                done[project.project_code] = step
                projects.pop(project.project_code, None)
            elif op == "sql":
                # writes that bypass the app are counted too (the triggers are the database's)
                conn = session.connection()
                conn.execute(
                    sa.update(Project.__table__).where(Project.__table__.c.id == project.id).values(spent=None)
                )
                conn.execute(
                    sa.update(SelfEvaluation.__table__)
                    .where(SelfEvaluation.__table__.c.id == ev.id)
                    .values(total_score=Decimal("75.5"), grade=rng.choice(["优", "良", "中", "差"]))
                )
                session.commit()
            succeeded[op] = succeeded.get(op, 0) + 1
        except REFUSED:
            session.rollback()
        if step % 10 == 9:
            _check(session, people)
    _check(session, people)
    # the walk really did each kind of write
    assert set(succeeded) == {
        "save",
        "submit",
        "withdraw",
        "approve",
        "return",
        "final",
        "reopen",
        "import",
        "delete",
        "sql",
    }, succeeded
    assert session.exec(select(sa.func.sum(UnitStats.unmet))).one() > 0


def test_a_project_keeps_its_unit_and_year(session):
    """The maintained figures follow a project's unit and year, so those never change in place."""
    dept = factories.department(session, "测试局甲")
    _import(session, {"P001": {"unit": 0, "budget": "10", "n": 3, "indicators": [0]}})
    other = factories.unit(session, "另一单位", dept)
    project = session.exec(select(Project)).one()
    with pytest.raises(sa.exc.DBAPIError, match="do not change"):
        session.execute(sa.update(Project).where(Project.id == project.id).values(unit_id=other.id))
    session.rollback()
