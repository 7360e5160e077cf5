"""The fund's arithmetic and its item-by-item scoring, pure (issue 12 §1–2, shared/domain.md §6)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from app.domain.funds import (
    FUJIAN_PROJECT_JSON,
    GUANGDONG_FUND_SETTINGS,
    Deduction,
    NodeInput,
    item_codes,
    score_fund,
    tree_figures,
)
from app.domain.scoring import IndicatorInput, TemplateSettings
from app.domain.targets import parse_target
from tests.funds.seed import SEED, node_inputs

D = Decimal


def _seed_deductions():
    return [Deduction(d["item"], D(d["points"]), d["reason"], d.get("indicator")) for d in SEED["deductions"]]


def test_the_seed_tree_sums_and_its_spending_is_summed_up_the_tree():
    tree = tree_figures(D("57550"), node_inputs())
    assert tree.fund.flags == ()
    assert tree.fund.spent == D("56022.2398")  # not typed anywhere: summed from the recipients up
    assert tree.fund.balance == D("1527.7602")
    assert tree.fund.execution_rate == D("97.35")  # the report declares 97.42
    assert all(f.flags == () for f in tree.nodes.values())
    by_name = {n.name: tree.nodes[n.key] for n in node_inputs()}
    assert by_name["支持工业互联网标杆示范"].spent == D("9862.35")
    assert by_name["支持工业互联网标杆示范"].execution_rate == D("98.62")
    assert by_name["支持工业企业“上云上平台”"].execution_rate == D("95.76")
    assert by_name["支持数字经济和工业互联网发展重点工作"].execution_rate == D("99.89")
    assert by_name["工业互联网处"].spent == D("29104.2598") and by_name["工业互联网处"].spent_from_children


def test_the_seed_scores_96_8_with_the_spending_rate_computed():
    tree = tree_figures(D("57550"), node_inputs())
    score = score_fund(settings=GUANGDONG_FUND_SETTINGS, figures=tree.figures(), deductions=_seed_deductions())
    cats = {c.slug: c.score for c in score.categories}
    assert cats == {"input": D("19.5"), "process": D("19.8"), "output": D("28"), "outcome": D("29.5")}
    assert score.item("211").score == D("5.8") and score.item("211").rate == D("97.35")
    assert score.item("21").score == D("11.8")
    assert score.item("12").score == D("7.5") and score.item("32").score == D("23")
    assert score.item("41").score == D("24.5")
    assert score.total == D("96.8") and score.grade == "优" and score.complete


def test_a_difference_between_children_and_parent_is_a_flag_never_a_fix():
    nodes = [
        NodeInput(1, None, "处室", D("100")),
        NodeInput(2, 1, "甲", D("60.0001"), spent=D("60")),
        NodeInput(3, 1, "乙", D("40"), spent=D("10")),
    ]
    tree = tree_figures(D("100"), nodes)
    assert tree.nodes[1].flags == ("allocation_mismatch",)
    assert tree.nodes[1].allocation_difference == D("-0.0001")
    assert tree.nodes[1].allocated == D("100")  # kept as entered
    assert tree.nodes[1].spent == D("70") and tree.fund.execution == Fraction(70, 100)


def test_spending_typed_at_a_parent_differs_from_its_children():
    nodes = [NodeInput(1, None, "处室", D("100"), spent=D("90")), NodeInput(2, 1, "甲", D("100"), spent=D("80"))]
    tree = tree_figures(D("100"), nodes)
    assert "spent_mismatch" in tree.nodes[1].flags and tree.nodes[1].spent == D("80")


def test_partial_spending_leaves_the_rate_open_and_the_computed_item_unscored():
    nodes = [
        NodeInput(1, None, "甲", D("50"), spent=D("50")),
        NodeInput(2, None, "乙", D("50")),
    ]
    tree = tree_figures(D("100"), nodes)
    assert tree.fund.spent is None and "spent_partial" in tree.fund.flags and "fund_spent_missing" in tree.fund.flags
    score = score_fund(settings=GUANGDONG_FUND_SETTINGS, figures=tree.figures())
    assert not score.complete and score.grade is None and score.missing == ("资金支出率",)


def test_deductions_floor_at_zero_and_need_a_reason():
    tree = tree_figures(D("1"), [NodeInput(1, None, "甲", D("1"), spent=D("1"))])
    many = [Deduction("42", D("3"), "公平性不足")] * 2
    assert score_fund(settings=GUANGDONG_FUND_SETTINGS, figures=tree.figures(), deductions=many).item("42").score == 0
    with pytest.raises(ValueError, match="理由"):
        score_fund(settings=GUANGDONG_FUND_SETTINGS, figures=tree.figures(), deductions=[Deduction("42", D("1"), " ")])
    with pytest.raises(ValueError, match="不是扣分制"):
        score_fund(settings=GUANGDONG_FUND_SETTINGS, figures=tree.figures(), deductions=[Deduction("211", D("1"), "x")])


def test_the_guangdong_maxima_are_data_and_marked_unconfirmed():
    items = item_codes(GUANGDONG_FUND_SETTINGS)
    maxima = {i.name: i.points for i in items.values()}
    assert maxima == {
        "项目立项": "12", "资金落实": "8", "资金管理": "12", "资金支出率": "6", "资金使用规范": "6",
        "事项管理": "8", "经济性": "5", "效率性": "25", "效果性": "25", "公平性": "5",
    }  # fmt: skip
    assert all(i.source is None for i in items.values())  # no public notice found: unconfirmed


def test_fujian_is_a_second_template_as_data_scored_without_code():
    stored = TemplateSettings.from_json(FUJIAN_PROJECT_JSON).to_json()  # round trip, as the database keeps it
    fujian = TemplateSettings.from_json(stored)
    assert [c.name for c in fujian.structure.categories] == ["决策", "过程", "产出", "效益", "满意度"]
    tree = tree_figures(D("200"), [NodeInput(1, None, "甲", D("200"), arrived=D("200"), spent=D("180"))])

    def ind(key, target, actual, level1="output"):
        return IndicatorInput(key, level1, key, parse_target(target), actual=parse_target(actual))

    indicators = {
        "31": [ind("数量", "≥10个", "10个"), ind("质量", "≥95%", "76%")],
        "41": [ind("效益", "≥100万元", "100万元", "outcome")],
        "51": [ind("满意度", "≥90%", "90%", "satisfaction")],
    }
    score = score_fund(
        settings=fujian,
        figures=tree.figures(),
        deductions=[Deduction("24", D("1.5"), "组织实施制度执行不到位")],
        indicators=indicators,
    )
    # 决策 15; 过程 4 (到位 100%) + 3.6 (执行 90% × 4) + 4 + 6.5; 产出 17.5 + 14 (76/95 × 17.5); 效益 20; 满意度 10
    assert score.category("process").score == D("18.10")
    assert score.category("output").score == D("31.50")
    assert score.total == D("94.60") and score.grade == "优"
    assert score_fund(settings=fujian, figures=tree.figures()).missing == ("产出指标", "项目效益", "服务对象满意度")


def test_a_template_whose_items_do_not_add_up_is_refused():
    bad = {**FUJIAN_PROJECT_JSON, "categories": [dict(c) for c in FUJIAN_PROJECT_JSON["categories"]]}
    bad["categories"][0] = {**bad["categories"][0], "points": "16"}
    bad["categories"][1] = {**bad["categories"][1], "points": "19"}
    with pytest.raises(ValueError, match="各项目分值之和"):
        TemplateSettings.from_json(bad)


def test_the_fund_templates_survive_storage():
    from app.domain.funds import FUND_TEMPLATES

    for settings in FUND_TEMPLATES.values():
        assert TemplateSettings.from_json(settings.to_json()) == settings
