"""Real forms from other provinces through the import service: stored as combined, or refused whole."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import select

from app.models import Indicator, Project
from app.services import imports

NANYUE = Path(__file__).resolve().parents[1] / "data" / "real" / "nanyue_2018_row_layout.txt"
SPLIT = (
    "年度,主管部门,单位名称,项目名称,年度预算数（元）,年度目标,"
    "一级指标,二级指标,三级指标,指标性质,指标值,度量单位,权重\n"
)
ROW = '2023,马踏镇部门,井研县马踏镇人民政府,村组干部报酬,"3,309,840.00",按时发放,{}\n'


def run(session, text: str, name: str, year: int):
    return imports.import_file(session=session, data=text.encode("utf-8"), filename=name, year=year)


def projects(session) -> int:
    return session.exec(select(sa.func.count()).select_from(Project)).one()


def test_split_columns_and_money_in_yuan_are_stored_combined_and_in_wan_yuan(session):
    body = "".join(
        ROW.format(cells)
        for cells in (
            "产出指标,数量指标,行政村数量,═,11,个,30",
            "产出指标,时效指标,维持时效,≥,1,年,30",
            "效益指标,社会效益指标,维护社会稳定,≧,95,%,20",
            "满意度指标,服务对象满意度指标,人民群众满意度,≥,95,%,10",
        )
    )
    report = run(session, SPLIT + body, "mata.csv", 2023)
    assert report.ok and report.committed, report.errors
    project = session.exec(select(Project)).one()
    assert project.budget == Decimal("330.984")
    # the table's one budget figure is its 年初预算数 too (issue 9: it used to show as "—")
    assert project.initial_budget == Decimal("330.984")
    rows = session.exec(select(Indicator).order_by(Indicator.id)).all()
    assert [(i.annual_target, i.target_op, i.target_value, i.target_unit_class) for i in rows] == [
        ("═11个", "=", "11", "count"),
        ("≥1年", ">=", "1", "other"),
        ("≧95%", ">=", "95", "percent"),
        ("≥95%", ">=", "95", "percent"),
    ]


def test_a_contradicting_split_row_refuses_the_whole_file_at_its_row_and_column(session):
    body = ROW.format("产出指标,数量指标,行政村数量,=,11,个,45") + ROW.format("效益指标,社会效益指标,稳定,定性,95,%,45")
    report = run(session, SPLIT + body, "bad.csv", 2023)
    assert not report.ok and not report.committed
    (error,) = report.errors
    assert (error["place"]["row"], error["place"]["column"]) == (3, "指标性质")
    assert projects(session) == 0


def test_a_text_weight_refuses_the_whole_file(session):
    body = ROW.format("产出指标,数量指标,行政村数量,=,11,个,四十五")
    report = run(session, SPLIT + body, "w.csv", 2023)
    assert [e["code"] for e in report.errors] == ["bad_weight"]
    assert projects(session) == 0


def test_the_row_layout_text_imports_through_the_service(session):
    report = run(session, NANYUE.read_text(encoding="utf-8"), "nanyue.txt", 2018)
    assert report.ok and report.committed, report.errors
    assert session.exec(select(sa.func.count()).select_from(Indicator)).one() == 16
    stored = session.exec(select(Indicator).where(Indicator.name == "景观建设成本")).one()
    assert (stored.annual_target, stored.target_op, stored.target_unit) == ("<=2875元/个", "<=", "元/个")
