"""Mid-year monitoring service: rounds, the unit's saves, tenancy, the overview (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain import monitoring as m
from app.services import monitoring
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.services.evaluation_data import YEAR
from tests.services.monitoring_data import CUTOFF, PLANTED, fill_progress, indicator_of, planted


def test_only_the_bureau_opens_and_closes_a_round(session):
    w = planted(session, fill=False)
    for who in ("unit", "department"):
        with pytest.raises(PermissionDenied):
            monitoring.open_round(session=session, principal=w[who], year=YEAR, cutoff_date=CUTOFF)
    rnd = monitoring.round_of(session=session, year=YEAR)
    assert rnd.cutoff_date == CUTOFF and rnd.status == m.ROUND_OPEN
    with pytest.raises(ValidationFailed) as exc:
        monitoring.open_round(session=session, principal=w["finance"], year=YEAR, cutoff_date=date(YEAR + 1, 1, 31))
    assert exc.value.errors[0].field == "cutoff_date"
    with pytest.raises(PermissionDenied):
        monitoring.close_round(session=session, principal=w["unit"], round_id=rnd.id)
    monitoring.close_round(session=session, principal=w["finance"], round_id=rnd.id)
    project = w["projects"]["设备运维"]
    with pytest.raises(Conflict):
        fill_progress(session, w["unit"], project.id, "50次")
    # reopening with another date moves the time line
    monitoring.open_round(session=session, principal=w["finance"], year=YEAR, cutoff_date=date(YEAR, 7, 31))
    line = fill_progress(session, w["unit"], project.id, "45次")
    assert line.round.status == m.ROUND_OPEN and line.light == m.YELLOW  # 58.20 expected by 7月31日: 13.20 behind


def test_the_planted_projects_light_green_yellow_red(session):
    w = planted(session)
    for name, (_, _, progress, light) in PLANTED.items():
        line = monitoring.report_line(session=session, principal=w["unit"], project_id=w["projects"][name].id)
        assert line.light == light, name
        assert line.indicators[0].entry.progress == progress
        assert line.spending.light == m.GREEN and m.points(line.spending.rate) == Decimal("50.00")
    view = monitoring.overview(session=session, principal=w["finance"], year=YEAR)
    assert view.total.lights == {"green": 1, "yellow": 1, "red": 1, "none": 1}  # 别人的项目 has nothing yet
    assert m.points(view.line) == Decimal("49.73")
    reds = monitoring.overview(session=session, principal=w["finance"], year=YEAR, light="red")
    assert [r.project.name for r in reds.reports] == ["业务培训"]


def test_saving_changes_the_light_and_the_version(session):
    w = planted(session, fill=False)
    project = w["projects"]["业务培训"]
    ind = indicator_of(session, project.id)
    line = monitoring.report_line(session=session, principal=w["unit"], project_id=project.id)
    assert line.light == m.NO_LIGHT and line.version == 1
    line = monitoring.save(
        session=session,
        principal=w["unit"],
        project_id=project.id,
        version=1,
        spent="56022.2398",
        entries={ind.id: {"progress": "20人次", "reason": "培训安排在下半年", "measure": "九月集中开班"}},
    )
    assert line.light == m.RED and line.version == 2 and line.report.spent == Decimal("56022.2398")
    entry = line.indicators[0].entry
    assert entry.progress_parsed["value"] == "20" and entry.reason == "培训安排在下半年"
    # a seasonal share: 20% expected by June → on track
    line = monitoring.save(
        session=session,
        principal=w["unit"],
        project_id=project.id,
        version=2,
        entries={ind.id: {"expected_share": "20"}},
    )
    assert line.light == m.GREEN and line.indicators[0].entry.expected_share == Decimal("20")
    with pytest.raises(Conflict):  # the version the page had is stale
        monitoring.save(
            session=session,
            principal=w["unit"],
            project_id=project.id,
            version=2,
            entries={ind.id: {"progress": "1人次"}},
        )
    fresh = monitoring.report_line(session=session, principal=w["finance"], project_id=project.id)
    assert fresh.indicators[0].entry.progress == "20人次"


def test_a_bad_field_is_named_and_nothing_is_stored(session):
    w = planted(session, fill=False)
    project = w["projects"]["设备运维"]
    ind = indicator_of(session, project.id)
    with pytest.raises(ValidationFailed) as exc:
        monitoring.save(
            session=session,
            principal=w["unit"],
            project_id=project.id,
            version=1,
            spent="-3",
            entries={ind.id: {"progress": "进展顺利", "expected_share": "140", "judgement": "blue"}},
        )
    fields = {e.field for e in exc.value.errors}
    assert fields == {
        "spent",
        f"indicators[{ind.id}].progress",
        f"indicators[{ind.id}].expected_share",
        f"indicators[{ind.id}].judgement",
    }
    line = monitoring.report_line(session=session, principal=w["unit"], project_id=project.id)
    assert line.report is None or (line.report.spent is None and not line.indicators[0].entry)


def test_tenancy(session):
    w = planted(session)
    mine = w["projects"]["设备运维"]
    with pytest.raises(NotFound):  # another unit: not even its existence
        monitoring.report_line(session=session, principal=w["other_unit"], project_id=mine.id)
    with pytest.raises(NotFound):
        fill_progress(session, w["other_unit"], mine.id, "1次")
    # the department and the bureau read, but only the unit writes
    assert monitoring.report_line(session=session, principal=w["department"], project_id=mine.id).light == m.GREEN
    with pytest.raises(PermissionDenied):
        fill_progress(session, w["department"], mine.id, "1次")
    with pytest.raises(PermissionDenied):
        fill_progress(session, w["finance"], mine.id, "1次")
    seen = monitoring.overview(session=session, principal=w["unit"], year=YEAR)
    assert {r.project.name for r in seen.reports} == set(PLANTED)
    seen = monitoring.overview(session=session, principal=w["other_unit"], year=YEAR)
    assert [r.project.name for r in seen.reports] == ["别人的项目"]
    by_dept = monitoring.overview(session=session, principal=w["department"], year=YEAR)
    assert [(d.name, d.projects) for d in by_dept.departments] == [("广州市工业和信息化局", 4)]
    assert {u.name: u.lights["red"] for u in by_dept.units} == {
        "广州市无线电监测站": 1,
        "广州市工业和信息化产业发展中心": 0,
    }
    with pytest.raises(NotFound):
        monitoring.overview(session=session, principal=w["finance"], year=YEAR + 1)


def test_thresholds_follow_the_template_in_force(session):
    from app.services import templates

    w = planted(session)
    templates.new_version(
        session=session, name="national-2020", changes={"monitoring_yellow_behind": "12", "monitoring_red_behind": "30"}
    )
    lights = {
        r.project.name: r.light for r in monitoring.overview(session=session, principal=w["finance"], year=YEAR).reports
    }
    assert lights["监测报告编制"] == m.GREEN and lights["业务培训"] == m.YELLOW


def test_the_self_evaluation_sees_the_monitoring_value(session):
    w = planted(session)
    project = w["projects"]["监测报告编制"]
    note = monitoring.beside_evaluation(session=session, project=project)
    ind = indicator_of(session, project.id)
    assert note.cutoff_date == CUTOFF and note.values[ind.id] == ("38份", m.YELLOW)
