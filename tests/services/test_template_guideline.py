"""The second built-in template, "2021 指引" (财预〔2021〕101号): 成本指标 is a level-1 category with
经济成本 / 社会成本 / 生态环境成本 below it; stored and versioned like national-2020, created on
first use."""

from __future__ import annotations

from decimal import Decimal

from app.domain.scoring import IndicatorInput, evaluate
from app.domain.targets import parse_target
from app.services import templates


def _row(key, level1, level2, target, actual):
    return IndicatorInput(
        key=key, level1=level1, level2=level2, name=key, target=parse_target(target), actual=parse_target(actual)
    )


def test_guideline_2021_is_created_on_first_use_with_cost_as_a_level1_category(session):
    row = templates.current_template(session=session, name="guideline-2021")
    assert templates.label(row) == "guideline-2021@1"
    assert "财预〔2021〕101号" in row.title
    settings = templates.settings_of(row)
    assert settings.indicator_categories == ("output", "cost", "outcome", "satisfaction")
    assert dict(settings.category_weights) == {
        "execution": Decimal(10),
        "output": Decimal(40),
        "cost": Decimal(10),
        "outcome": Decimal(30),
        "satisfaction": Decimal(10),
    }
    cost = settings.structure.category("cost")
    assert [k.name for k in cost.children] == ["经济成本指标", "社会成本指标", "生态环境成本指标"]
    output = settings.structure.category("output")
    assert [k.name for k in output.children] == ["数量指标", "质量指标", "时效指标"]
    outcome = settings.structure.category("outcome")
    assert [k.name for k in outcome.children] == ["经济效益", "社会效益", "生态效益", "可持续影响"]
    # the same row again, not a second version
    assert templates.current_template(session=session, name="guideline-2021").id == row.id
    # national-2020 is untouched
    national = templates.settings_of(templates.current_template(session=session))
    assert national.indicator_categories == ("output", "outcome", "satisfaction")

    # it scores a 成本 row under its own points
    result = evaluate(
        settings=settings,
        budget=Decimal(100),
        spent=Decimal(100),
        indicators=[
            _row("a", "output", "quantity", "≥12份", "12份"),
            _row("b", "cost", "economic_cost", "≤50万元", "55万元"),
            _row("c", "outcome", "social", "≥90%", "90%"),
        ],
    )
    # no 满意度: its 10 points spread proportionally over 产出 40 / 成本 10 / 效益 30
    assert result.category_points == {
        "output": Decimal("45.00"),
        "cost": Decimal("11.25"),
        "outcome": Decimal("33.75"),
        "satisfaction": Decimal("0"),
    }
    assert result.by_key("b").score == Decimal("10.13")  # (1 − 5/50) × 11.25 = 10.125


def test_an_unknown_template_names_the_ones_there_are(session):
    import pytest

    from app.services.errors import NotFound

    with pytest.raises(NotFound, match="guideline-2021"):
        templates.current_template(session=session, name="guideline-2099")
