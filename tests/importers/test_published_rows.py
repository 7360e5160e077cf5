"""The published-text reader on the layout that prints one indicator per line.

The real text is the 2018 绩效目标申报表 published by 衡阳市南岳区财政局 (Hunan), as the page
reads when copied: tests/data/real/nanyue_2018_row_layout.txt, from
http://www.nanyue.gov.cn/nyczj/czysgk/2018njyqnddbmyjs/xcj/nyqnyzzf/20200211/i951217.html
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from app.domain.targets import parse_target
from app.importers.published import read_published

NANYUE = Path(__file__).resolve().parents[1] / "data" / "real" / "nanyue_2018_row_layout.txt"


def test_a_real_row_layout_table_reads_every_indicator_with_categories_carried_down():
    result = read_published(NANYUE.read_text(encoding="utf-8"), source="nanyue.txt")
    assert result.ok, result.errors
    (project,) = result.projects
    assert (project.year, project.department_name, project.unit_code, project.unit_name) == (
        2018,
        "南岳镇政府",
        "610001",
        "湖南省润山润水生态农业发展有限公司",
    )
    assert project.project_name == "2018年市级专项扶贫资金基础设施(人大代表扶贫基地)"
    assert project.budget == Decimal("10")
    assert project.annual_goal == "为水濂村带来观光游客不少于6万人,村集体收入达6万元。"
    rows = [(i.level1, i.level2, i.name, i.annual_target) for i in project.indicators]
    assert len(rows) == 16
    assert rows[0] == ("output", "quantity", "贫困地区旅游基础设施建设工程", ">=20平方米")
    assert rows[1] == ("output", "quantity", "贫困地区旅游景点开发数量( ≥**个 )", ">=4个")  # spaces in a name
    assert rows[2] == ("output", "quantity", "流转土地", ">=60亩")  # both categories carried down
    assert rows[6] == ("output", "cost", "景观建设成本", "<=2875元/个")  # 二级指标 carried down
    assert rows[9] == ("outcome", "economic", "乡村旅游带动增加贫困人口收入(≥**万元)", ">=2.61万元")
    assert rows[15] == ("satisfaction", "service_satisfaction", "游客满意度(≥**%)", ">=90%")
    assert [i.order for i in project.indicators] == list(range(1, 17))
    assert project.indicators[0].place.row == 13  # the line of the text
    # every value read is a number the scoring can use
    assert all(parse_target(i.annual_target).kind == "quantity" for i in project.indicators)


TWO_PROJECTS = """\
绩效目标申报表（2024年度）
项目名称 村道养护
主管部门 某县交通运输局 实施单位 某县公路养护中心
年度目标
完成村道日常养护。
一级指标 二级指标 三级指标 年度指标值 分值
产出指标 数量指标 养护里程 ≥120公里 30
时效指标 巡查响应 2小时内到场 20
效益指标 社会效益指标 群众出行条件 明显改善 30
满意度指标 服务对象满意度指标 群众满意度 ≥90% 10
总分 90
项目名称 桥梁检测
主管部门 某县交通运输局 实施单位 某县公路养护中心
一级指标 二级指标 三级指标 指标值
产出指标 数量指标 检测桥梁 12座
"""


def test_several_projects_a_weight_column_and_the_table_end():
    result = read_published(TWO_PROJECTS, source="two.txt")
    assert result.ok, result.errors
    first, second = result.projects
    assert first.year == 2024 and first.unit_name == "某县公路养护中心"
    assert [(i.level2, i.name, i.annual_target, i.weight) for i in first.indicators] == [
        ("quantity", "养护里程", "≥120公里", Decimal(30)),
        ("timeliness", "巡查响应", "2小时内到场", Decimal(20)),
        ("social", "群众出行条件", "明显改善", Decimal(30)),
        ("service_satisfaction", "群众满意度", "≥90%", Decimal(10)),
    ]
    assert [(i.name, i.annual_target, i.weight) for i in second.indicators] == [("检测桥梁", "12座", None)]
    assert [w.code for w in result.warnings] == ["missing_goal"]  # the second project has none


def test_an_indicator_line_without_its_first_category_is_an_error_at_its_line():
    text = "项目名称 甲\n实施单位 乙中心\n一级指标 二级指标 三级指标 指标值\n养护里程 ≥120公里\n"
    result = read_published(text, source="bad.txt")
    assert ("unknown_level1", 4) in [(e.code, e.place.row) for e in result.errors]
    assert not result.ok


def test_a_table_without_its_unit_is_refused():
    text = "项目名称 甲\n一级指标 二级指标 三级指标 指标值\n产出指标 数量指标 养护里程 ≥120公里\n"
    result = read_published(text, source="nounit.txt")
    assert [e.code for e in result.errors] == ["missing_unit"]


def test_text_in_no_known_layout_is_refused_naming_the_layouts_it_knows():
    # a 自评表 flattened into one line (池州 2022): neither layout
    text = (
        "项目支出绩效自评表 (2022年度) 项目名称 委托业务项目 绩效指标 一级指标 二级指标 三级指标 年度指标值"
        "实际完成值 分值 得分 产出指标(50分) 数量指标 基建工程委托业务项目数量 ≥50个 50 8 8"
    )
    result = read_published(text, source="flat.txt")
    (error,) = result.errors
    assert error.code == "no_indicators"
    assert "逐条文字版式" in error.message and "逐行表格版式" in error.message and "导入模板" in error.message
