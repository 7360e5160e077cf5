"""`python -m bench --quick` in CI, piece by piece: the plans of the SQL jixiao emits for the bench's
scenarios, on a small province built by the bench's own generator (its data come through jixiao's
import and services, then COPY), with sequential scans disabled so that a scan of a big table means
no index serves the query, whatever the data's size."""

from __future__ import annotations

import pytest

from bench import quick

pytestmark = pytest.mark.postgres

# The scenarios whose every statement is held to the plan bounds: every scenario of bench/suite.py.
# On main before 97d8a04 (maintained aggregates, the department's index) department_unmet removed
# 2,691 rows by filter and unit_stats / department_stats read 38,090 / 38,730 rows here.
GUARDED = [
    "unit_indicators",
    "year_unmet_first",
    "year_unmet_deep",
    "project",
    "html_evaluation",
    "department_unmet",
    "unit_stats",
    "department_stats",
]


@pytest.fixture(scope="module")
def province():
    with quick.Quick() as q:
        yield q.world


def test_the_bench_province_is_shaped_like_the_issue(province):
    # 10 copies of the template: 100 units over 60 departments, 20 projects a unit, ~10.4 indicators a project
    assert len(province.units) == 100
    assert len(province.departments) == 60
    assert len(province.projects) == 2000
    lo, hi = province.indicator_ids
    assert hi - lo + 1 == 20_720
    assert province.saves, "draft evaluations with a saved first indicator, for the save scenarios"


@pytest.mark.parametrize("scenario", GUARDED)
def test_the_plans_of_the_scenarios_use_indexes_and_read_little(province, scenario):
    checks = quick.check_plans(province, [scenario])
    assert checks, f"no SELECT captured for {scenario}"
    bad = [f"[{c.step}] {c.why()}: {c.sql[:200]}" for c in checks if not c.ok]
    assert not bad, "\n".join(bad)


def test_the_plan_check_flags_the_department_query_kept_as_before(province):
    # bench/sql/before.json: the department unmet list as jixiao emitted it before issue 14 reads the
    # year's indicators in id order and filters the department last; the check must see it.
    flagged = [c for c in quick.check_before(province) if c.scenario == "department_unmet_before" and not c.ok]
    assert flagged and flagged[0].removed > quick.REMOVED_LIMIT
