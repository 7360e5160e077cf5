"""A scoring template's structure is data: national 2020 is one instance of it, unchanged in
behaviour; another template (a 成本 category, items scored by deductions) is another instance,
not another code path."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.categories import NATIONAL_2020_STRUCTURE, Structure
from app.domain.scoring import NATIONAL_2020, IndicatorInput, TemplateSettings, evaluate
from app.domain.targets import parse_target

WITH_COST = [
    {"code": "0", "slug": "execution", "name": "预算执行率", "points": "10", "scoring": "execution"},
    {"code": "1", "slug": "output", "name": "产出指标", "short": "产出", "points": "40"},
    {"code": "2", "slug": "cost", "name": "成本指标", "short": "成本", "points": "10", "direction": "lower"},
    {"code": "3", "slug": "outcome", "name": "效益指标", "short": "效益", "points": "30"},
    {"code": "4", "slug": "satisfaction", "name": "满意度指标", "short": "满意度", "points": "10"},
]


def _input(key, level1, target, actual):
    return IndicatorInput(
        key=key,
        level1=level1,
        level2=None,
        name=key,
        target=parse_target(target),
        given_weight=None,
        actual=parse_target(actual),
    )


def test_national_2020_is_an_instance_and_round_trips():
    assert NATIONAL_2020.structure == NATIONAL_2020_STRUCTURE
    assert NATIONAL_2020.indicator_categories == ("output", "outcome", "satisfaction")
    stored = NATIONAL_2020.to_json()
    assert TemplateSettings.from_json(stored) == NATIONAL_2020
    # a version stored before the structure was data reads as national 2020
    assert TemplateSettings.from_json({k: v for k, v in stored.items() if k != "categories"}) == NATIONAL_2020
    assert Structure.from_json(NATIONAL_2020_STRUCTURE.to_json()) == NATIONAL_2020_STRUCTURE


def test_a_cost_category_is_a_setting_not_a_code_path():
    settings = TemplateSettings.from_json({"name": "with-cost", "categories": WITH_COST})
    assert settings.indicator_categories == ("output", "cost", "outcome", "satisfaction")
    assert dict(settings.category_weights) == {
        "execution": Decimal(10),
        "output": Decimal(40),
        "cost": Decimal(10),
        "outcome": Decimal(30),
        "satisfaction": Decimal(10),
    }
    result = evaluate(
        settings=settings,
        budget=Decimal(100),
        spent=Decimal(100),
        indicators=[
            _input("a", "output", "≥12份", "12份"),
            _input("b", "cost", "≤50万元", "60万元"),
            _input("c", "outcome", "≥90%", "90%"),
            _input("d", "satisfaction", "≥95%", "96%"),
        ],
    )
    assert result.category_points == {
        "output": Decimal("40.00"),
        "cost": Decimal("10.00"),
        "outcome": Decimal("30.00"),
        "satisfaction": Decimal("10.00"),
    }
    cost = result.by_key("b")
    assert cost.weight == Decimal("10.00") and cost.score == Decimal("8.00")  # (1 − 10/50) × 10
    assert result.total == Decimal("98.00")
    # the national template does not know the category: refused, not guessed
    with pytest.raises(ValueError, match="cost"):
        evaluate(settings=NATIONAL_2020, budget=None, spent=None, indicators=[_input("b", "cost", "≤50万元", "1万元")])


def test_items_scored_by_method_are_the_shape_and_are_refused_by_the_project_form():
    structure = [
        {"code": "1", "slug": "input", "name": "投入", "points": "15", "scoring": "items",
         "items": [{"code": "11", "name": "项目立项", "points": "5", "method": "deductions"},
                   {"code": "12", "name": "资金落实", "points": "10", "method": "computed",
                    "figure": "arrival_rate"}]},
        {"code": "2", "slug": "output", "name": "产出", "points": "85"},
    ]  # fmt: skip
    settings = TemplateSettings.from_json({"name": "special-fund", "categories": structure})
    assert settings.structure.category("input").items[0].method == "deductions"
    assert settings.execution_points == 0
    with pytest.raises(ValueError, match="投入"):
        evaluate(settings=settings, budget=None, spent=None, indicators=[_input("a", "output", "≥1个", "1个")])


@pytest.mark.parametrize(
    ("categories", "message"),
    [
        ([{**WITH_COST[1]}, {**WITH_COST[1]}], "不重复"),
        ([{**WITH_COST[1], "scoring": "magic"}], "计分方式"),
        ([{**WITH_COST[1], "scoring": "items"}], "须列出各项目"),
        ([{**WITH_COST[2], "direction": "up"}], "方向"),
        ([{**WITH_COST[1], "points": "90"}, {**WITH_COST[3], "points": "30"}], "之和须为 100"),
    ],
)
def test_a_bad_structure_is_refused_with_a_reason(categories, message):
    with pytest.raises(ValueError, match=message):
        TemplateSettings.from_json({"categories": categories})
