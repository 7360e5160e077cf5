"""Split target columns, money in 元 and 分值 that are not numbers, in real xlsx/csv files.

The rows follow 井研县马踏镇人民政府's 2023 部门预算项目绩效目标申报表 (Sichuan), which prints
指标性质 | 指标值 | 度量单位 in separate cells, 权重 for 分值, and "金额单位：元" above its header:
https://m.qbidia.com/jyx/zjgk/202412/baa621fd1ec74c86bf45aa16dfd0603d.shtml
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from app.importers.tabular import read_table

D = Decimal
SPLIT_HEADERS = [
    "年度",
    "主管部门",
    "单位名称",
    "项目名称",
    "预算数",
    "年度目标",
    "一级指标",
    "二级指标",
    "三级指标",
    "指标性质",
    "指标值",
    "度量单位",
    "权重",
]
PROJECT = [
    2023,
    "820-马踏镇部门",
    "820001-井研县马踏镇人民政府",
    "村组干部报酬",
    "3,309,840.00",
    "按时发放村组干部报酬",
]
SPLIT_ROWS = [
    PROJECT + ["效益指标", "社会效益指标", "维护社会稳定", "≥", "95", "%", 10],
    PROJECT + ["产出指标", "时效指标", "维持时效", "≥", "1", "年", 20],
    PROJECT + ["产出指标", "质量指标", "按时发放", "≥", "1", "人/年", 10],
    PROJECT + ["效益指标", "经济效益指标", "促进村集体经济发展", "≥", "95", "%", 10],
    PROJECT + ["产出指标", "数量指标", "村组干部230人", "≥", "230", "个", 10],
    PROJECT + ["效益指标", "生态效益指标", "保护生态环境卫生", "≥", "95", "%", 10],
    PROJECT + ["满意度指标", "服务对象满意度指标", "人民群众满意度", "≥", "95", "%", 10],
    PROJECT + ["产出指标", "数量指标", "行政村数量", "=", "11", "个", 10],
]


def xlsx(path, headers, rows, *, above=()):
    wb = Workbook()
    ws = wb.active
    ws.title = "申报表"
    for line in above:
        ws.append(list(line))
    ws.append(list(headers))
    for row in rows:
        ws.append(list(row))
    wb.save(path)
    return path


def csv_bytes(headers, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def test_split_columns_and_a_money_note_above_the_header_read_as_published(tmp_path):
    path = xlsx(
        tmp_path / "mata.xlsx",
        SPLIT_HEADERS,
        SPLIT_ROWS,
        above=[["部门预算项目绩效目标申报表(2023年度)"], ["金额单位:元"]],
    )
    result = read_table(path, filename="mata.xlsx")
    assert result.ok, result.errors
    (project,) = result.projects
    assert project.budget == D("330.984")  # 3,309,840.00 元 = 330.984 万元, exactly
    assert [(i.name, i.annual_target, i.period_target, i.weight) for i in project.indicators] == [
        ("维护社会稳定", "≥95%", None, D(10)),
        ("维持时效", "≥1年", None, D(20)),
        ("按时发放", "≥1人/年", None, D(10)),
        ("促进村集体经济发展", "≥95%", None, D(10)),
        ("村组干部230人", "≥230个", None, D(10)),
        ("保护生态环境卫生", "≥95%", None, D(10)),
        ("人民群众满意度", "≥95%", None, D(10)),
        ("行政村数量", "=11个", None, D(10)),
    ]
    assert not [p for p in result.warnings if p.code in ("missing_period_target", "money_unit_assumed")]


def test_split_column_aliases_glyphs_and_qualitative_rows(tmp_path):
    renamed = {"指标性质": "指标值类型", "指标值": "目标值", "度量单位": "计量单位"}
    headers = [renamed.get(h, h) for h in SPLIT_HEADERS]
    assert headers[9:12] == ["指标值类型", "目标值", "计量单位"]
    rows = [
        PROJECT + ["产出指标", "数量指标", "宣传次数", "≧", "4", "次", 30],
        PROJECT + ["产出指标", "质量指标", "验收合格率", "═", "100", "%", 20],
        PROJECT + ["效益指标", "社会效益指标", "保证单位正常运转", "定性", "应保尽保", "", 30],
        PROJECT + ["满意度指标", "服务对象满意度指标", "群众满意度", "定量", "90", "%", 10],
    ]
    result = read_table(csv_bytes(headers, rows), filename="aliases.csv")
    assert result.ok, result.errors
    assert [i.annual_target for i in result.projects[0].indicators] == ["≧4次", "═100%", "应保尽保", "90%"]


@pytest.mark.parametrize(
    "cells, column, words",
    [
        (["定性", "95", "%"], "指标性质", "定性"),
        (["≥", "按时完成", ""], "指标性质", "不是数值"),
        (["≥", "≤95", "%"], "指标性质", "比较符不一致"),
        (["定量", "28.8万元", "%"], "度量单位", "单位"),
        (["大约", "3", "个"], "指标性质", "无法识别"),
    ],
)
def test_split_cells_that_contradict_each_other_are_an_error_at_their_row_and_column(tmp_path, cells, column, words):
    rows = [SPLIT_ROWS[0], PROJECT + ["产出指标", "数量指标", "矛盾的指标", *cells, 10]]
    result = read_table(csv_bytes(SPLIT_HEADERS, rows), filename="bad.csv")
    (error,) = result.errors
    assert error.code == "split_contradiction"
    assert (error.place.row, error.place.column) == (3, column)
    assert words in error.message and "矛盾的指标" in error.message


def test_a_file_with_both_a_combined_and_split_target_columns_is_refused(tmp_path):
    headers = SPLIT_HEADERS + ["年度指标值"]
    result = read_table(csv_bytes(headers, [SPLIT_ROWS[0] + ["≥95%"]]), filename="both.csv")
    (error,) = result.errors
    assert error.code == "split_and_combined" and "只用一种写法" in error.message


@pytest.mark.parametrize(
    "header, cell, unit_column, expected",
    [
        ("年度预算数（元）", "56,022,239.80", None, D("5602.22398")),
        ("年度预算数(万元)", "5602.22398", None, D("5602.22398")),
        ("年度资金总额（元）", "100", None, D("0.01")),
        ("预算数", "3309840.00元", None, D("330.984")),  # the unit after the number
        ("预算数", "330.984万元", None, D("330.984")),
        ("预算数", "3309840", "元", D("330.984")),  # a 金额单位 column
        ("预算数", "330.984", "万元", D("330.984")),
    ],
)
def test_money_in_yuan_is_converted_to_wan_yuan_exactly(header, cell, unit_column, expected):
    headers = [
        "年度",
        "主管部门",
        "单位名称",
        "项目名称",
        header,
        "年度目标",
        "一级指标",
        "二级指标",
        "三级指标",
        "实施周期指标值",
        "年度指标值",
    ]
    row = [2023, "某局", "某中心", "某项目", cell, "目标", "产出指标", "数量指标", "场次", "≥4场", "≥4场"]
    if unit_column is not None:
        headers.append("金额单位")
        row.append(unit_column)
    result = read_table(csv_bytes(headers, [row]), filename="money.csv")
    assert result.ok, result.errors
    assert result.projects[0].budget == expected
    assert not [p for p in result.warnings if p.code == "money_unit_assumed"]


def test_money_without_any_unit_is_read_as_wan_yuan_with_a_warning_and_cents_below_fen_are_refused():
    headers = [
        "年度",
        "主管部门",
        "单位名称",
        "项目名称",
        "预算数",
        "年度目标",
        "一级指标",
        "二级指标",
        "三级指标",
        "实施周期指标值",
        "年度指标值",
        "金额单位",
    ]
    base = [2023, "某局", "某中心", "某项目", "12.5", "目标", "产出指标", "数量指标", "场次", "≥4场", "≥4场"]
    result = read_table(csv_bytes(headers, [base + [""]]), filename="nounit.csv")
    assert result.projects[0].budget == D("12.5")
    (warning,) = [p for p in result.warnings if p.code == "money_unit_assumed"]
    assert "按万元理解" in warning.message
    bad_unit = read_table(csv_bytes(headers, [base + ["美元"]]), filename="usd.csv")
    (error,) = bad_unit.errors
    assert (error.code, error.place.row, error.place.column) == ("bad_money_unit", 2, "金额单位")
    too_fine = read_table(csv_bytes(headers, [base[:4] + ["0.001"] + base[5:] + ["元"]]), filename="fine.csv")
    assert [e.code for e in too_fine.errors] == ["money_precision"]


def test_a_weight_with_text_in_it_is_an_error_at_its_row_and_column(tmp_path):
    rows = [SPLIT_ROWS[0], SPLIT_ROWS[1][:-1] + ["二十"]]
    result = read_table(csv_bytes(SPLIT_HEADERS, rows), filename="weights.csv")
    (error,) = result.errors
    assert (error.code, error.place.row, error.place.column, error.place.value) == ("bad_weight", 3, "权重", "二十")
    assert "分值须填数字" in error.message
