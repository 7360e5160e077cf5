"""The database no longer fixes the level-1 categories (the template's structure does): an
indicator of a category the template defines, such as 成本, is stored on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import select

from app.models import Indicator
from tests.services.evaluation_data import project_with, two_units


def test_an_indicator_of_a_template_category_outside_the_national_three_is_stored(session):
    _, mine, _ = two_units(session)
    project = project_with(session, mine, [("output", "监测报告", "≥12份"), ("cost", "单位运维成本", "≤50万元")])
    stored = session.exec(select(Indicator.level1).where(Indicator.project_id == project.id)).all()
    assert sorted(stored) == ["cost", "output"]
