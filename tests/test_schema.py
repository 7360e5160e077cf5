"""The schema: built by migrations, exact money, aware timestamps, no drift, reversible."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic import command
from sqlmodel import Session, select

from app.cli import alembic_config
from app.models import Department, FiscalYear, Project, Unit
from tests import factories
from tests.conftest import migrate, new_database


def _project(session: Session, **money) -> Project:
    dept = factories.department(session)
    unit = factories.unit(session, "广州市无线电监测站", dept)
    session.add(FiscalYear(year=2024))
    session.commit()
    project = Project(year=2024, unit_id=unit.id, project_code="P1", name="专项资金", **money)
    session.add(project)
    session.commit()
    return project


def test_money_round_trips_exactly(session):
    """56022.2398 万元 in, 56022.2398 万元 out — on SQLite and PostgreSQL alike (domain.md §6)."""
    project = _project(
        session,
        budget=Decimal("57550"),
        spent=Decimal("56022.2398"),
        fiscal_funds=Decimal("0.000001"),
        other_funds=Decimal("999999999999.999999"),
    )
    session.expunge_all()
    row = session.exec(select(Project).where(Project.id == project.id)).one()
    assert row.spent == Decimal("56022.2398")
    assert str(row.spent.normalize()) == "56022.2398"
    assert row.budget == Decimal("57550")
    assert row.fiscal_funds == Decimal("0.000001")
    assert row.other_funds == Decimal("999999999999.999999")
    total = session.exec(select(sa.func.sum(Project.spent))).one()
    assert total == Decimal("56022.2398")
    assert isinstance(total, Decimal)


def test_money_refuses_float_and_finer_than_a_fen(session):
    with pytest.raises(sa.exc.StatementError, match="refuses float"):
        _project(session, spent=56022.2398)
    session.rollback()
    with pytest.raises(sa.exc.StatementError, match="decimal places"):
        session.add(Project(year=2024, unit_id=1, project_code="P2", name="x", spent=Decimal("1.0000001")))
        session.commit()


def test_timestamps_are_timezone_aware(session):
    beijing = timezone(timedelta(hours=8))
    moment = datetime(2024, 12, 31, 23, 30, tzinfo=beijing)
    session.add(Department(name="部门A", created_at=moment))
    session.commit()
    session.expunge_all()
    row = session.exec(select(Department)).one()
    assert row.created_at.tzinfo is not None
    assert row.created_at == moment
    assert row.created_at.astimezone(UTC).hour == 15


def test_unit_belongs_to_department(session):
    dept = factories.department(session, "广州市工业和信息化局")
    factories.unit(session, "广州市工业和信息化产业发展中心", dept)
    unit = session.exec(select(Unit)).one()
    assert unit.department_id == dept.id


def test_alembic_check_reports_no_drift(db, db_url):
    """The models and the migrations describe the same schema (alembic check)."""
    command.check(alembic_config(db_url))


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_upgrade_and_downgrade_on_an_empty_database(request, tmp_path_factory, kind):
    url, drop = new_database(request, kind, tmp_path_factory)
    try:
        migrate(url)
        engine = sa.create_engine(url)
        tables = set(sa.inspect(engine).get_table_names())
        assert {
            "project",
            "indicator",
            "self_evaluation",
            "indicator_result",
            "app_user",
            "api_token",
            "audit_event",
            "scoring_template",
            "filing_window",
            "unit",
            "department",
        } <= tables
        command.downgrade(alembic_config(url), "base")
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()
    finally:
        drop()
