"""Every configurable rule is a setting of the stored, versioned scoring template.

For each setting: store a new template version with it changed; the evaluation scored under
the earlier version keeps its score until it is rescored on purpose, and then it changes.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from app.models import Indicator, SelfEvaluation, User
from app.security import principal_for_user
from app.services import evaluations, templates
from app.services.evaluations import ResultInput
from tests.services.evaluation_data import project_with, two_units

TARGETS = [
    ("output", "监测报告", "≥12份"),  # actual 10份: shortfall
    ("output", "设备故障", "≤5次"),  # actual 6次: lower-is-better overshoot
    ("output", "监测覆盖率", "100%"),  # actual 105%: equality
    ("outcome", "监测能力", "提升"),  # partial, chosen score inside the band
    ("outcome", "年度报告", "2024年10月底前"),  # done 2024-11-15: late
    ("outcome", "服务企业", "≥100家"),  # actual 150家: over-achieved (150%)
]  # no 满意度: its 10 points move


def fill(session, user, evaluation_id: int, indicators: dict[str, Indicator], weights: dict[str, Decimal]):
    principal = principal_for_user(user)
    view = evaluations.view(session=session, principal=principal, evaluation_id=evaluation_id)
    partial_score = (weights["监测能力"] * Decimal("0.78")).quantize(Decimal("0.01"))
    return evaluations.save(
        session=session,
        principal=principal,
        evaluation_id=evaluation_id,
        version=view.evaluation.version,
        spent="95",
        results=[
            ResultInput(indicators["监测报告"].id, actual="10份", deviation_reason="设备检修"),
            ResultInput(indicators["设备故障"].id, actual="6次", deviation_reason="雷雨季节"),
            ResultInput(indicators["监测覆盖率"].id, actual="105%"),
            ResultInput(
                indicators["监测能力"].id,
                qualitative_level="partial",
                score_in_band=str(partial_score),
                deviation_reason="部分达成",
            ),
            ResultInput(indicators["年度报告"].id, actual="2024-11-15", deviation_reason="推迟半月"),
            ResultInput(indicators["服务企业"].id, actual="150家", deviation_reason="需求超出预期"),
        ],
    )


def snapshot(view) -> tuple:
    e = view.evaluation
    return (
        e.total_score,
        e.grade,
        e.execution_score,
        tuple(sorted(e.flags)),
        tuple((i.name, i.weight, i.score, tuple(i.flags)) for i in view.indicators),
    )


def _with_cost_category() -> list[dict]:
    """National 2020's structure with a 成本 category between 产出 and 效益 (the 2021 guidance)."""
    from app.domain.categories import NATIONAL_2020_STRUCTURE

    national = NATIONAL_2020_STRUCTURE.to_json()
    cost = {"code": "5", "slug": "cost", "name": "成本指标", "short": "成本", "points": "10", "direction": "lower"}
    national[1] = {**national[1], "points": "40"}  # 产出 40 + 成本 10: the defaults still sum to 100
    return [*national[:2], cost, *national[2:]]


CHANGES = {
    # the structure itself: a 成本 category (empty in this project: its points are spread)
    "categories": {
        "categories": _with_cost_category(),
        "category_weights": {"execution": "10", "output": "40", "cost": "10", "outcome": "30", "satisfaction": "10"},
        "redistribution": {
            "output": "proportional",
            "cost": "proportional",
            "outcome": "proportional",
            "satisfaction": "outcome",
        },
    },
    "category_weights": {
        "category_weights": {"execution": "10", "output": "60", "outcome": "20", "satisfaction": "10"}
    },
    "redistribution": {
        "redistribution": {"output": "proportional", "outcome": "proportional", "satisfaction": "output"}
    },
    "use_given_weights": {"use_given_weights": False},
    "lower_formula": {"lower_formula": "ratio"},
    "equality": {"equality": "two_sided"},
    "qualitative_bands": {
        "qualitative_bands": {"achieved": ["75", "100"], "partial": ["50", "75"], "not_achieved": ["0", "50"]}
    },
    "qualitative_defaults": {"qualitative_defaults": {"achieved": "100", "partial": "60", "not_achieved": "30"}},
    "deadline_late_level": {"deadline_late_level": "not_achieved"},
    "cap_at_weight": {"cap_at_weight": False},
    "over_achievement_percent": {"over_achievement_percent": "200"},
    "execution_low_below": {"execution_low_below": "96"},
    "execution_over_above": {"execution_over_above": "90"},
    "grade_thresholds": {"grade_thresholds": [["优", "80"], ["良", "70"], ["中", "60"], ["差", "0"]]},
    "rounding_places": {"rounding_places": 1},
}


def test_every_setting_of_national_2020_is_covered():
    from app.domain.scoring import NATIONAL_2020

    # quality_* settings change the checks of a 绩效目标表, not scores (tests/services/test_target_quality_settings.py);
    # monitoring_* the mid-year lights (tests/domain/test_monitoring.py)
    quality = {k for k in NATIONAL_2020.to_json() if k.startswith(("quality_", "monitoring_"))}
    assert quality
    assert set(NATIONAL_2020.to_json()) - {"name"} - quality == set(CHANGES) | {
        "given_weights_absolute",
        "allow_self_scores",
    }


def test_given_points_change_scores_only_when_rescored(session):
    # given_weights_absolute matters only when EVERY indicator has a 分值: its own project here
    _, mine, _ = two_units(session)
    user = session.exec(select(User).where(User.username == "jcz")).one()
    project = project_with(session, mine, TARGETS)
    indicators = {i.name: i for i in session.exec(select(Indicator).where(Indicator.project_id == project.id))}
    given = {
        "监测报告": "20",
        "设备故障": "20",
        "监测覆盖率": "20",
        "监测能力": "10",
        "年度报告": "10",
        "服务企业": "10",
    }
    for name, weight in given.items():
        indicators[name].weight = Decimal(weight)
        session.add(indicators[name])
    session.commit()
    evaluation = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one()
    principal = principal_for_user(user)
    first_view = evaluations.view(session=session, principal=principal, evaluation_id=evaluation.id)
    # 产出 60 / 效益 30 as written (the template's split would make 产出 50 and 效益 40)
    assert {i.name: i.weight for i in first_view.indicators} == {k: Decimal(v) for k, v in given.items()}
    before = snapshot(fill(session, user, evaluation.id, indicators, {i.name: i.weight for i in first_view.indicators}))

    templates.new_version(session=session, name="national-2020", changes={"given_weights_absolute": False})
    kept = evaluations.view(session=session, principal=principal, evaluation_id=evaluation.id)
    assert snapshot(kept) == before
    evaluations.rescore(session=session, evaluation_id=evaluation.id)
    after = evaluations.view(session=session, principal=principal, evaluation_id=evaluation.id)
    assert after.template_label == "national-2020@2"
    weights = {i.name: i.weight for i in after.indicators}
    assert weights["监测报告"] == Decimal("16.67") and weights["监测能力"] == Decimal("13.34")
    assert snapshot(after) != before


@pytest.mark.parametrize("setting", sorted(CHANGES))
def test_a_new_template_version_changes_scores_only_when_rescored(session, setting):
    _, mine, _ = two_units(session)
    user = session.exec(select(User).where(User.username == "jcz")).one()
    project = project_with(session, mine, TARGETS)
    indicators = {i.name: i for i in session.exec(select(Indicator).where(Indicator.project_id == project.id))}
    # The table gives weights to the three 产出 indicators (20 + 20 + 10 = 50).
    for name, weight in (("监测报告", "20"), ("设备故障", "20"), ("监测覆盖率", "10")):
        indicators[name].weight = Decimal(weight)
        session.add(indicators[name])
    session.commit()
    evaluation = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one()
    principal = principal_for_user(user)
    first_view = evaluations.view(session=session, principal=principal, evaluation_id=evaluation.id)
    weights = {i.name: i.weight for i in first_view.indicators}
    before = snapshot(fill(session, user, evaluation.id, indicators, weights))
    assert first_view.template_label == "national-2020@1"

    v2 = templates.new_version(session=session, name="national-2020", changes=CHANGES[setting])
    assert v2.version == 2

    kept = evaluations.view(session=session, principal=principal, evaluation_id=evaluation.id)
    assert kept.template_label == "national-2020@1"
    assert snapshot(kept) == before  # scored under version 1, kept until rescored on purpose

    evaluations.rescore(session=session, evaluation_id=evaluation.id)
    after_view = evaluations.view(session=session, principal=principal, evaluation_id=evaluation.id)
    assert after_view.template_label == "national-2020@2"
    assert snapshot(after_view) != before, f"changing {setting} changed nothing: {before} {snapshot(after_view)}"


def test_new_projects_are_scored_with_the_current_version(session):
    _, mine, _ = two_units(session)
    templates.new_version(session=session, name="national-2020", changes={"lower_formula": "ratio"})
    project = project_with(session, mine, TARGETS, name="新项目")
    evaluation = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one()
    assert templates.label(session.get(templates.ScoringTemplate, evaluation.template_id)) == "national-2020@2"


def test_an_invalid_template_setting_is_refused(session):
    from app.services.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        templates.new_version(
            session=session,
            name="national-2020",
            changes={"category_weights": {"execution": "10", "output": "90", "outcome": "30", "satisfaction": "10"}},
        )


def test_scoring_cli_stores_a_version_and_rescores_a_year_on_purpose(settings, session):
    from tests.test_settings_cli import run_cli

    _, mine, _ = two_units(session)
    user = session.exec(select(User).where(User.username == "jcz")).one()
    project = project_with(session, mine, [("output", "设备故障", "≤5次")])
    untouched = project_with(session, mine, [("output", "监测报告", "≥12份")], name="未填报项目")
    evaluation = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one()
    principal = principal_for_user(user)
    view = evaluations.view(session=session, principal=principal, evaluation_id=evaluation.id)
    ind = view.indicators[0].id
    evaluations.save(
        session=session,
        principal=principal,
        evaluation_id=evaluation.id,
        version=view.evaluation.version,
        spent="100",
        results=[ResultInput(ind, actual="6次", deviation_reason="雷雨季节")],
    )
    # linear: (1 − (6 − 5) / 5) × 90 = 72.00; ratio: 5 / 6 × 90 = 75.00
    env = {"DATABASE_URL": settings.database_url}
    assert run_cli("scoring", "set", '{"lower_formula": "ratio"}', env=env).returncode == 0
    refused = run_cli("scoring", "set", '{"lower_formula": "bogus"}', env=env)
    assert refused.returncode != 0 and "linear 或 ratio" in refused.stderr
    session.expire_all()
    assert evaluations.view(session=session, principal=principal, evaluation_id=evaluation.id).indicators[
        0
    ].score == Decimal("72.00")
    result = run_cli("scoring", "rescore", "--year", "2024", env=env)
    assert result.returncode == 0 and "2 份" in result.stdout
    session.expire_all()
    after = evaluations.view(session=session, principal=principal, evaluation_id=evaluation.id)
    assert after.template_label == "national-2020@2" and after.indicators[0].score == Decimal("75.00")
    assert after.evaluation.total_score == Decimal("85.00")  # 75.00 + 10.00 (执行率 100%)
    not_started = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == untouched.id)).one()
    assert not_started.status == "not_started" and not_started.total_score is None
