"""Importing 绩效目标表 into the database: counts, idempotency, revisions, all-or-nothing."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from app.models import Indicator, IndicatorResult, Project, SelfEvaluation, Unit
from app.services import demo, imports

SEED = Path(__file__).resolve().parent.parent / "data" / "seed_003.txt"
HEADER = (
    "年度,主管部门,单位名称,单位编码,项目名称,项目编码,年度预算数（万元）,实施周期目标,年度目标,一级指标,"
    "二级指标,三级指标,实施周期指标值,年度指标值,分值\n"
)


def counts(session) -> dict[str, int]:
    return {
        "units": session.exec(select(sa.func.count()).select_from(Unit)).one(),
        "projects": session.exec(select(sa.func.count()).select_from(Project)).one(),
        "indicators": session.exec(select(sa.func.count()).select_from(Indicator)).one(),
        "evaluations": session.exec(select(sa.func.count()).select_from(SelfEvaluation)).one(),
    }


def run(session, data: bytes, name: str = "seed_003.txt", **kw):
    return imports.import_file(session=session, data=data, filename=name, year=kw.pop("year", 2024), **kw)


def per_unit(session) -> dict[str, tuple[int, int]]:
    rows = session.execute(
        select(Unit.name, sa.func.count(sa.distinct(Project.id)), sa.func.count(Indicator.id))
        .join(Project, Project.unit_id == Unit.id)
        .join(Indicator, Indicator.project_id == Project.id)
        .group_by(Unit.name)
    ).all()
    return {name: (p, i) for name, p, i in rows}


def test_seed_003_imports_into_the_demo_units_without_duplicating_them(session):
    demo.load_demo(session=session)  # creates the three units, then imports seed 003 as 2024
    assert counts(session) == {"units": 3, "projects": 34, "indicators": 168, "evaluations": 34}
    assert per_unit(session) == {
        "广州市工业和信息化局": (12, 87),
        "广州市工业和信息化产业发展中心": (8, 32),
        "广州市无线电监测站": (14, 49),
    }
    statuses = set(session.exec(select(SelfEvaluation.status)))
    assert statuses == {"not_started"}


def test_reimporting_the_same_file_changes_nothing(session):
    first = run(session, SEED.read_bytes())
    assert first.ok and first.committed and first.counts["projects_created"] == 34
    codes = sorted(session.exec(select(Project.project_code)))
    again = run(session, SEED.read_bytes())
    assert again.ok
    assert again.counts["projects_unchanged"] == 34 and again.counts["indicators_unchanged"] == 168
    assert not again.counts["projects_created"] and not again.counts["indicators_created"]
    assert sorted(session.exec(select(Project.project_code))) == codes
    assert all(len(c) == 21 for c in codes)
    assert counts(session)["projects"] == 34


def test_dry_run_writes_nothing(session):
    report = run(session, SEED.read_bytes(), dry_run=True)
    assert report.ok and not report.committed and report.counts["projects_created"] == 34
    assert counts(session) == {"units": 0, "projects": 0, "indicators": 0, "evaluations": 0}


def test_targets_are_kept_raw_and_parsed(session):
    run(session, SEED.read_bytes())
    row = session.exec(select(Indicator).where(Indicator.annual_target == "≥12份")).first()
    assert row.target_kind == "quantity" and row.target_op == ">=" and row.target_value == "12"
    assert row.target_unit == "份" and row.target_unit_class == "count"
    low = session.exec(select(Indicator).where(Indicator.target_confidence == "low")).all()
    assert low and all(i.warnings for i in low)


def test_year_disagreement_is_an_error_and_nothing_is_written(session):
    csv = (HEADER + "2023,测试局,测试单位,,测试项目,,10,,,产出,数量指标,报告,≥1份,≥1份,\n").encode()
    report = run(session, csv, name="t.csv", year=2024)
    assert not report.ok and report.errors[0]["code"] == "year_mismatch"
    assert "2023" in report.errors[0]["message"]
    assert counts(session)["projects"] == 0


def test_an_error_anywhere_aborts_the_whole_file(session):
    good = "2024,测试局,测试单位,,项目甲,,10,,,产出,数量指标,报告,≥1份,≥1份,\n"
    bad = "2024,测试局,测试单位,,项目乙,,10,,,投入,数量指标,报告,≥1份,≥1份,\n"  # unknown level-1
    report = run(session, (HEADER + good + bad).encode(), name="t.csv")
    assert not report.ok
    problem = report.errors[0]
    assert problem["place"]["row"] == 3 and problem["place"]["column"] == "一级指标"
    assert counts(session)["projects"] == 0 and counts(session)["units"] == 0


def test_bad_files_get_a_clear_message(session):
    assert run(session, b"%PDF-1.4", name="table.pdf").errors[0]["code"] == "unsupported_type"
    assert run(session, b"", name="empty.csv").errors[0]["code"] == "empty"
    big = imports.import_file(session=session, data=b"x" * 2048, filename="big.csv", year=2024, max_bytes=1024)
    assert big.errors[0]["code"] == "too_large" and "上限" in big.errors[0]["message"]
    garbage = run(session, bytes(range(256)) * 10, name="t.xlsx")
    assert not garbage.ok and garbage.errors[0]["message"]
    assert counts(session)["projects"] == 0


def test_a_revised_table_updates_and_protects_entered_actuals(session):
    # Drafts (草稿) are updated in place by a re-import; approved tables are not (test_reimport.py).
    text = SEED.read_text(encoding="utf-8")
    run(session, text.encode(), as_draft=True)
    # The unit enters an actual for the first indicator of the first project.
    first = session.exec(select(Indicator).order_by(Indicator.id)).first()
    evaluation = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == first.project_id)).one()
    session.add(
        IndicatorResult(self_evaluation_id=evaluation.id, indicator_id=first.id, year=2024, actual="1个", flags=[])
    )
    session.commit()

    # A revision that changes one target value of that indicator: updated, the actual is kept.
    revised = text.replace(
        "年度指标值:1个。2、1-产出指标；11-数量指标；落户以来累计完成投资；实施周期",
        "年度指标值:2个。2、1-产出指标；11-数量指标；落户以来累计完成投资；实施周期",
        1,
    )
    assert revised != text
    report = run(session, revised.encode())
    assert report.ok, report.errors
    assert report.counts["indicators_updated"] == 1 and report.counts["indicators_unchanged"] == 167
    session.expire_all()
    assert session.get(Indicator, first.id).annual_target == "2个"
    assert session.exec(select(IndicatorResult)).one().actual == "1个"


def test_removing_an_indicator_with_an_actual_needs_force(session):
    text = SEED.read_text(encoding="utf-8")
    run(session, text.encode(), as_draft=True)  # a draft: the re-import may change it in place
    first = session.exec(select(Indicator).order_by(Indicator.id)).first()
    evaluation = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == first.project_id)).one()
    session.add(
        IndicatorResult(self_evaluation_id=evaluation.id, indicator_id=first.id, year=2024, actual="1个", flags=[])
    )
    session.commit()
    name = first.name
    # Rename the indicator in the table: the old one is removed, a new one appears.
    revised = text.replace(f"11-数量指标；{name[:10]}", "11-数量指标；改名后的指标", 1)
    assert revised != text
    refused = run(session, revised.encode())
    assert not refused.ok and refused.errors[0]["code"] == "removes_actuals"
    assert refused.errors[0]["code"] == "removes_actuals" and "确认" in refused.errors[0]["message"]
    assert "--" not in refused.errors[0]["message"]  # the service names no CLI flag; each face words the remedy
    assert refused.removed_with_actuals[0]["indicator"] == name
    session.expire_all()
    assert session.get(Indicator, first.id) is not None  # nothing changed
    forced = run(session, revised.encode(), force=True)
    assert forced.ok and forced.committed
    session.expire_all()
    assert session.get(Indicator, first.id) is None
    assert session.exec(select(IndicatorResult)).first() is None
