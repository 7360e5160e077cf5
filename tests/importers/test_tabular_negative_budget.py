"""A negative 年度预算数 is refused at its cell: stored, it made the project's pages and workbook answer 500."""

from __future__ import annotations

from app.importers.tabular import read_table
from tests.importers.xlsx_crafted import HEADER


def test_a_negative_budget_is_an_error_at_its_cell():
    row = "2024,测试局,测试单位,,测试项目,,{budget},,,产出,数量指标,报告,≥1份,≥1份,90\n"
    data = (",".join(HEADER) + "\n" + row.format(budget="-20")).encode()
    result = read_table(data, filename="t.csv")
    [error] = result.errors
    assert error.code == "negative_money" and "不能为负数" in error.message and "-20" in error.message
    assert (error.place.row, error.place.column) == (2, "年度预算数（万元）")
    fine = read_table((",".join(HEADER) + "\n" + row.format(budget="20")).encode(), filename="t.csv")
    assert fine.ok and fine.projects[0].budget == 20
