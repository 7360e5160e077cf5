"""分值 as absolute points through the import path, the form and the print (issue 10 item 2)."""

from __future__ import annotations

import json
from decimal import Decimal

import sqlalchemy as sa
from alembic import command
from sqlmodel import select

from app.cli import alembic_config
from app.models import Indicator, Project, SelfEvaluation, Unit
from app.security import principal_for_user
from app.services import evaluations, imports
from tests import factories
from tests.conftest import new_database

HEAD = (
    "年度,主管部门,单位名称,项目名称,年度预算数（万元）,年度目标,"
    "一级指标,二级指标,三级指标,实施周期指标值,年度指标值,分值\n"
)
ROW = "2023,县农业农村局,县农技推广中心,{project},50,完成推广任务,{level1},{level2},{name},{target},{target},{weight}\n"


def body(project: str, weights: tuple[str, str, str, str]) -> str:
    rows = (
        ("产出指标", "数量指标", "推广面积", "≥1000亩"),
        ("产出指标", "质量指标", "技术到位率", "≥95%"),
        ("效益指标", "经济效益", "亩均增收", "≥100元"),
        ("满意度指标", "服务对象满意度", "农户满意度", "≥90%"),
    )
    return "".join(
        ROW.format(project=project, level1=a, level2=b, name=c, target=d, weight=w)
        for (a, b, c, d), w in zip(rows, weights, strict=True)
    )


def load(session, text: str):
    report = imports.import_file(session=session, data=(HEAD + text).encode(), filename="农技.csv", year=None)
    assert report.ok, report.errors
    return report


def view_of(session, project_name: str):
    unit = session.exec(select(Unit)).one()
    user = factories.user(session, f"u{project_name}", "unit", unit_row=unit)
    project = session.exec(select(Project).where(Project.name == project_name)).one()
    evaluation = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one()
    return evaluations.view(session=session, principal=principal_for_user(user), evaluation_id=evaluation.id)


def test_points_summing_to_90_are_used_as_written_without_a_warning(session):
    report = load(session, body("农技推广", ("30", "10", "30", "20")))
    assert [w for w in report.warnings if w["code"] == "weights_sum"] == []
    view = view_of(session, "农技推广")
    assert [i.weight for i in view.indicators] == [Decimal("30"), Decimal("10"), Decimal("30"), Decimal("20")]
    assert [g.points for g in view.groups] == [Decimal("40"), Decimal("30"), Decimal("20")]
    assert all(i.given_weight is None for i in view.indicators) and view.weights_note is None


def test_another_sum_is_imported_with_a_warning_naming_it_and_scaled_to_90(session):
    report = load(session, body("农技推广", ("40", "10", "30", "20")))
    warning = next(w for w in report.warnings if w["code"] == "weights_sum")
    assert "合计 100" in warning["message"] and "按比例折算为 90 分" in warning["message"]
    assert "农技推广" in warning["message"]
    project = session.exec(select(Project)).one()
    assert warning["message"] in project.warnings  # kept with the project
    stored = session.exec(select(Indicator.weight).order_by(Indicator.position)).all()
    assert stored == [Decimal("40"), Decimal("10"), Decimal("30"), Decimal("20")]  # the table's 分值, kept raw
    view = view_of(session, "农技推广")
    # 40 : 10 : 30 : 20 of 90 → 36 / 9 / 27 / 18
    assert [i.weight for i in view.indicators] == [Decimal("36"), Decimal("9"), Decimal("27"), Decimal("18")]
    assert [i.given_weight for i in view.indicators] == [Decimal("40"), Decimal("10"), Decimal("30"), Decimal("20")]
    assert "合计 100 分" in view.weights_note


def test_the_form_and_the_print_show_both_weights(client, session):
    load(session, body("农技推广", ("40", "10", "30", "20")))
    unit = session.exec(select(Unit)).one()
    factories.user(session, "njz", "unit", unit_row=unit)
    factories.login(client, "njz")
    evaluation = session.exec(select(SelfEvaluation)).one()
    for url in (f"/evaluations/{evaluation.id}", f"/evaluations/{evaluation.id}/print"):
        page = client.get(url).text
        assert "（表中 40）" in page and "（表中 10）" in page, url
        assert "表中各指标分值合计 100 分" in page, url


def test_the_migration_adds_a_version_with_the_setting_on_and_keeps_the_old_one(request, tmp_path_factory):
    url, drop = new_database(request, "sqlite", tmp_path_factory)
    try:
        config = alembic_config(url)
        command.upgrade(config, "a8d58f1674cc")
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO scoring_template (name, version, title, settings, is_current, created_at) "
                    "VALUES ('national-2020', 1, '国家', :s, 1, '2026-01-01 00:00:00')"
                ),
                {"s": '{"name": "national-2020", "lower_formula": "ratio"}'},
            )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT version, settings, is_current FROM scoring_template ORDER BY version")
            ).all()
        engine.dispose()
        assert [(r.version, bool(r.is_current)) for r in rows] == [(1, False), (2, True)]
        assert json.loads(rows[0].settings) == {"name": "national-2020", "lower_formula": "ratio"}
        assert json.loads(rows[1].settings) == {
            "name": "national-2020",
            "lower_formula": "ratio",
            "given_weights_absolute": True,
        }
    finally:
        drop()


def test_the_apis_give_the_tables_weight_beside_the_scaled_one(client, session):
    load(session, body("农技推广", ("40", "10", "30", "20")))
    unit = session.exec(select(Unit)).one()
    factories.user(session, "njz", "unit", unit_row=unit)
    factories.login(client, "njz")
    evaluation = session.exec(select(SelfEvaluation)).one()
    rows = client.get(f"/api/v1/self-evaluations/{evaluation.id}").json()["indicators"]
    assert [(r["weight"], r["given_weight"]) for r in rows] == [
        ("36.00", "40"),
        ("9.00", "10"),
        ("27.00", "30"),
        ("18.00", "20"),
    ]
    version = client.get(f"/api/v1/self-evaluations/{evaluation.id}").json()["version"]
    saved = client.put(
        f"/api/v1/self-evaluations/{evaluation.id}",
        json={"version": version, "results": [{"indicator_id": rows[0]["id"], "actual": "1000亩"}]},
    )
    assert saved.status_code == 200, saved.text
    factories.user(session, "cz", "finance")
    factories.login(client, "cz")
    listed = client.get("/api/v1/indicators?year=2023").json()["items"]
    # a row with a stored result carries the weight it was scored with; a row not yet answered
    # has only the table's (the catalog has always read it so)
    assert [(r["weight"], r["given_weight"]) for r in listed][:2] == [("36.00", "40"), ("10.00", "10")]
