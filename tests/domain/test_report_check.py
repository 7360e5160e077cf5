"""jixiao check-report's core: the declared figures of a 自评报告 and their arithmetic (issue 12 §4)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from app.domain.evaluation import grades
from app.domain.report_check import check_report
from app.domain.scoring import NATIONAL_2020, grade_for

DATA = Path(__file__).resolve().parents[1] / "data"
SEED = (DATA / "seed_000.txt").read_text(encoding="utf-8")
REAL = DATA / "real"


def _mutated(line: int, old: str, new: str) -> str:
    lines = SEED.split("\n")
    assert old in lines[line - 1], lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return "\n".join(lines)


# --- the seed ---------------------------------------------------------------------------------


def test_the_seed_has_exactly_one_discrepancy_the_declared_spending_rate():
    result = check_report(SEED)
    assert len(result.flags) == 1
    flag = result.flags[0]
    assert flag.code == "rate"
    assert flag.declared.value == Decimal("97.42") and flag.declared.written == "97.42%"
    assert flag.computed == Decimal("97.35")
    numerator, base = flag.parts
    assert (numerator.kind, numerator.value) == ("spent", Decimal("56022.2398"))
    assert (base.kind, base.value) == ("budget", Decimal("57550"))
    # every figure carries its line: the rate and the spending on line 700, the budget on 698
    assert flag.declared.line == 700 and "97.42%" in flag.declared.line_text
    assert base.line == 698 and "57550" in base.line_text
    assert flag.lines == (698, 700)
    assert "97.42%" in flag.message and "97.35%" in flag.message


def test_the_seeds_other_rates_recompute_and_those_without_amounts_are_only_listed():
    result = check_report(SEED)
    rates = {f.declared.written: f for f in result.findings if f.code == "rate"}
    assert set(rates) == {"97.42%", "98.62%", "95.76%", "99.89%"}
    assert all(rates[w].ok for w in ("98.62%", "95.76%", "99.89%"))
    listed = [f.written for f in result.not_derivable if f.kind == "rate"]
    # six 到位率 100% with no amounts beside them, and 佛山's 87.97% (no base of its own)
    assert listed.count("100%") == 6 and "87.97%" in listed


def test_the_seeds_scores_add_up_and_the_per_division_scores_are_listed_not_summed():
    result = check_report(SEED)
    (categories,) = [f for f in result.findings if f.code == "category_scores"]
    assert categories.ok and categories.declared.value == Decimal("96.8")
    assert [p.value for p in categories.parts] == [Decimal(v) for v in ("19.5", "19.8", "28", "29.5")]
    items = {f.declared.label: [p.value for p in f.parts] for f in result.findings if f.code == "item_scores"}
    assert items == {
        "投入阶段": [Decimal("12"), Decimal("7.5")],
        "过程管理": [Decimal("11.8"), Decimal("8")],
        "产出": [Decimal("5"), Decimal("23")],
        "效益": [Decimal("24.5"), Decimal("5")],
    }
    assert all(f.ok for f in result.findings if f.code in ("item_scores", "category_scores"))
    separate = [f.value for f in result.not_derivable if f.kind == "score_separate"]
    assert separate == [Decimal("100"), Decimal("99"), Decimal("96.2")]
    assert result.expected_grade == grade_for(NATIONAL_2020, Decimal("96.8")) == grades(NATIONAL_2020)[0]


def test_the_seeds_allocations_add_up_at_every_level():
    result = check_report(SEED)
    sums = {(f.declared.line, f.declared.value): f.ok for f in result.findings if f.code == "allocations"}
    assert sums[(58, Decimal("57550"))] and sums[(70, Decimal("2240"))] and sums[(440, Decimal("30590"))]
    assert sums[(76, Decimal("1840"))]  # 1305 + 422 + 64 + 49 recipients
    assert sums[(586, Decimal("90"))]  # 其中 50 + 40 万元用于
    spent = [f for f in result.findings if f.code == "spent_balance"]
    assert [(f.declared.value, f.ok) for f in spent] == [(Decimal("10000"), True), (Decimal("20000"), True)]


def test_money_is_decimal_to_the_last_place():
    result = check_report(SEED)
    spent = [f for f in result.figures if f.kind == "spent"]
    assert spent[0].value == Decimal("56022.2398") and all(isinstance(f.value, Decimal) for f in spent)
    assert result.to_dict() == check_report(SEED).to_dict()  # deterministic


# --- mutations: one figure changed, exactly the lines that depend on it flagged -----------------

BASE_FLAGGED = {698, 700}


@pytest.mark.parametrize(
    ("line", "old", "new", "codes", "lines"),
    [
        # an allocation: its 处室's total (70: 2240 = 1840 + 400 on 96) and its recipients (80–84)
        (76, "1840", "1850", {"allocations"}, {70, 76, 80, 82, 84, 96}),
        # one recipient's share: only its item's list
        (128, "7409", "7408", {"allocations"}, {124, 128, 130, 132}),
        # a spent amount: spent + 结余 against the 下达 (953, 957) and the 专题's declared rate (961)
        (959, "9862.35", "9872.35", {"spent_balance", "rate"}, {953, 957, 959, 961}),
        # a spent amount whose rate still rounds the same: only spent + 结余
        (965, "19152.0098", "19152.0198", {"spent_balance"}, {963, 965, 967}),
        # an item score: its category (产出 28 = 经济性 5 + 效率性 23)
        (750, "23", "22", {"item_scores"}, {740, 742, 750}),
        # a category score: its items and the total
        (630, "19.5", "20.5", {"item_scores", "category_scores"}, {628, 630, 632, 680, 692, 740, 774}),
    ],
)
def test_changing_one_figure_flags_exactly_the_lines_that_depend_on_it(line, old, new, codes, lines):
    result = check_report(_mutated(line, old, new))
    assert set(result.flagged_lines) == BASE_FLAGGED | lines
    new_flags = [f for f in result.flags if set(f.lines) != BASE_FLAGGED]
    assert {f.code for f in new_flags} == codes
    assert all(line in f.lines for f in new_flags)


def test_a_declared_grade_is_checked_against_the_total_with_the_templates_thresholds():
    best, second = grades(NATIONAL_2020)[:2]
    wrong = SEED.replace("总体得分 96.8分，", f"总体得分 96.8分，自评等级为“{second}”，")
    (flag,) = [f for f in check_report(wrong).flags if f.code == "grade"]
    assert flag.declared.written == second and flag.computed == best and flag.parts[0].value == Decimal("96.8")
    right = SEED.replace("总体得分 96.8分，", f"总体得分 96.8分，自评等级为“{best}”，")
    assert [f.ok for f in check_report(right).findings if f.code == "grade"] == [True]


@pytest.mark.parametrize(
    ("declared", "flagged"),
    [("97.35", False), ("97.3", False), ("97", False), ("97.34", False), ("97.42", True), ("97.4", True)],
)
def test_a_rate_is_flagged_beyond_the_tolerance_at_its_declared_precision(declared, flagged):
    # 97.346 / 100: 97.35 at two places, 97.3 at one, 97 at none; 97.34 (truncated) is 0.01 off
    text = f"2021年预算 100万元，实际支出 97.346万元，资金支出率 {declared}%。"
    (finding,) = check_report(text).findings
    assert finding.ok is not flagged


def test_a_figure_split_across_lines_keeps_the_line_of_its_number():
    text = "（二）某处 2019 年共获得 16150 万\n\n元专项资金\n1.安排 16000 万元用于甲。\n2.安排 100万用于乙。"
    result = check_report(text)
    (flag,) = result.flags
    assert flag.declared.line == 1 and flag.declared.value == Decimal("16150") and flag.lines == (1, 4, 5)


# --- real reports from other publishers (tests/data/real/report_sources.json) --------------------

SOURCES = {r["file"]: r for r in json.loads((REAL / "report_sources.json").read_text(encoding="utf-8"))["reports"]}


def _real(name: str):
    assert SOURCES[name]["url"].startswith("http")
    return check_report((REAL / name).read_text(encoding="utf-8"))


def test_chizhou_the_completed_amounts_parts_do_not_add_up():
    result = _real("report_chizhou_tangxi_2022.txt")
    assert [(f.declared.value, f.ok) for f in result.findings] == [(Decimal("90"), True), (Decimal("89.97"), False)]
    (flag,) = result.flags
    assert [p.value for p in flag.parts] == [Decimal("30"), Decimal("30"), Decimal("29.99")]
    assert flag.computed == Decimal("89.99") and "89.97" in flag.message and "0.02" in flag.message


def test_honghe_lists_its_budget_and_received_money_and_checks_nothing_it_cannot():
    result = _real("report_honghe_data_2024.txt")
    assert [(f.kind, f.value, f.line) for f in result.figures] == [
        ("budget", Decimal("861.46"), 9),
        ("received", Decimal("334.67"), 9),
    ]
    assert result.findings == () and result.flags == ()


def test_nanxian_a_growth_percentage_and_an_expense_category_are_not_misread():
    result = _real("report_nanxian_cppcc_2021.txt")
    # 增加31.39% is year-on-year growth, 项目支出286.83万元 a category of spending: neither is checked
    assert [f for f in result.figures if f.kind in ("rate", "spent")] == []
    assert result.flags == ()
