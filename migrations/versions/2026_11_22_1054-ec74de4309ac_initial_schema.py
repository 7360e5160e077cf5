"""initial schema

Revision ID: ec74de4309ac
Revises:
Create Date: 2026-11-22 10:54:06.404880

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op
from sqlalchemy.dialects import postgresql

import app.sqltypes

# revision identifiers, used by Alembic.
revision: str = "ec74de4309ac"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "department",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department")),
        sa.UniqueConstraint("code", name=op.f("uq_department_code")),
        sa.UniqueConstraint("name", name=op.f("uq_department_name")),
    )
    op.create_table(
        "fiscal_year",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_fiscal_year")),
    )
    op.create_table(
        "scoring_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "settings", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_template")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_scoring_template_name_version")),
    )
    op.create_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("name_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["department.id"], name=op.f("fk_unit_department_id_department")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit")),
        sa.UniqueConstraint("code", name=op.f("uq_unit_code")),
        sa.UniqueConstraint("name_key", name=op.f("uq_unit_name_key")),
    )
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_department_id"), ["department_id"], unique=False)

    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "unit",
                "department",
                "finance",
                "admin",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_login_at", app.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_app_user_department_id_department")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_app_user_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_app_user_department_id"), ["department_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_app_user_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "project",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("project_code", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("code_generated", sa.Boolean(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("period_goal", sa.Text(), nullable=True),
        sa.Column("annual_goal", sa.Text(), nullable=True),
        sa.Column("initial_budget", app.sqltypes.ExactDecimal(precision=18, scale=6), nullable=True),
        sa.Column("budget", app.sqltypes.ExactDecimal(precision=18, scale=6), nullable=True),
        sa.Column("budget_entered_by_unit", sa.Boolean(), nullable=False),
        sa.Column("fiscal_funds", app.sqltypes.ExactDecimal(precision=18, scale=6), nullable=True),
        sa.Column("carried_over", app.sqltypes.ExactDecimal(precision=18, scale=6), nullable=True),
        sa.Column("other_funds", app.sqltypes.ExactDecimal(precision=18, scale=6), nullable=True),
        sa.Column("spent", app.sqltypes.ExactDecimal(precision=18, scale=6), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column(
            "warnings", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("created_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_project_unit_id_unit")),
        sa.ForeignKeyConstraint(["year"], ["fiscal_year.year"], name=op.f("fk_project_year_fiscal_year")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
        sa.UniqueConstraint("year", "unit_id", "project_code", name=op.f("uq_project_year_unit_id_project_code")),
    )
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_project_year"), ["year"], unique=False)

    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "unit",
                "department",
                "finance",
                "admin",
                name="token_role",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", app.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", app.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"], name=op.f("fk_api_token_created_by_id_app_user")),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_api_token_department_id_department")
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_api_token_unit_id_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("entity_type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column(
            "before", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column(
            "after", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_audit_event_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_entity", ["entity_type", "entity_id"], unique=False)

    op.create_table(
        "filing_window",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("opens_date", sa.Date(), nullable=True),
        sa.Column("closes_date", sa.Date(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["app_user.id"], name=op.f("fk_filing_window_updated_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(["year"], ["fiscal_year.year"], name=op.f("fk_filing_window_year_fiscal_year")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_window")),
        sa.UniqueConstraint("year", name=op.f("uq_filing_window_year")),
    )
    op.create_table(
        "import_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "done",
                "failed",
                name="import_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column(
            "report", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", app.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"], name=op.f("fk_import_run_created_by_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_run")),
    )
    op.create_table(
        "indicator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "level1",
            sa.Enum(
                "output", "outcome", "satisfaction", name="level1", native_enum=False, create_constraint=True, length=20
            ),
            nullable=False,
        ),
        sa.Column("level2", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("level2_code", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("level2_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("period_target", sa.Text(), nullable=True),
        sa.Column("annual_target", sa.Text(), nullable=True),
        sa.Column(
            "target_kind",
            sa.Enum(
                "quantity",
                "qualitative",
                "deadline",
                name="target_kind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("target_op", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("target_value", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("target_value_max", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("target_unit", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("target_unit_raw", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("target_unit_class", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("target_deadline", sa.Date(), nullable=True),
        sa.Column("target_direction", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.Column("target_confidence", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column(
            "target_warnings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("weight", app.sqltypes.ExactDecimal(precision=10, scale=2), nullable=True),
        sa.Column(
            "warnings", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], name=op.f("fk_indicator_project_id_project")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator")),
    )
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_indicator_project_id"), ["project_id"], unique=False)
        batch_op.create_index("ix_indicator_year_id", ["year", "id"], unique=False)

    op.create_table(
        "self_evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "not_started",
                "draft",
                "submitted",
                "returned",
                "approved",
                "final",
                name="evaluation_status",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("execution_rate", app.sqltypes.ExactDecimal(precision=12, scale=4), nullable=True),
        sa.Column("execution_score", app.sqltypes.ExactDecimal(precision=10, scale=2), nullable=True),
        sa.Column("total_score", app.sqltypes.ExactDecimal(precision=10, scale=2), nullable=True),
        sa.Column("grade", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("department_score", app.sqltypes.ExactDecimal(precision=10, scale=2), nullable=True),
        sa.Column("goal_completion", sa.Text(), nullable=True),
        sa.Column(
            "flags", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("declared_execution_rate", app.sqltypes.ExactDecimal(precision=12, scale=4), nullable=True),
        sa.Column("declared_total_score", app.sqltypes.ExactDecimal(precision=10, scale=2), nullable=True),
        sa.Column(
            "declared", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", app.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", app.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("review_opinion", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], name=op.f("fk_self_evaluation_project_id_project")),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["app_user.id"], name=op.f("fk_self_evaluation_reviewed_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"], ["app_user.id"], name=op.f("fk_self_evaluation_submitted_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["template_id"], ["scoring_template.id"], name=op.f("fk_self_evaluation_template_id_scoring_template")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_evaluation")),
        sa.UniqueConstraint("project_id", name=op.f("uq_self_evaluation_project_id")),
    )
    with op.batch_alter_table("self_evaluation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_self_evaluation_year"), ["year"], unique=False)

    op.create_table(
        "indicator_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("self_evaluation_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("actual", sa.Text(), nullable=True),
        sa.Column(
            "actual_parsed",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "qualitative_level",
            sa.Enum(
                "achieved",
                "partial",
                "not_achieved",
                name="qualitative_level",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("score_in_band", app.sqltypes.ExactDecimal(precision=10, scale=2), nullable=True),
        sa.Column("weight", app.sqltypes.ExactDecimal(precision=10, scale=2), nullable=True),
        sa.Column("score", app.sqltypes.ExactDecimal(precision=10, scale=2), nullable=True),
        sa.Column("met", sa.Boolean(), nullable=True),
        sa.Column("score_override", app.sqltypes.ExactDecimal(precision=10, scale=2), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("override_by_id", sa.Integer(), nullable=True),
        sa.Column("deviation_reason", sa.Text(), nullable=True),
        sa.Column(
            "flags", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("updated_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"], ["indicator.id"], name=op.f("fk_indicator_result_indicator_id_indicator")
        ),
        sa.ForeignKeyConstraint(
            ["override_by_id"], ["app_user.id"], name=op.f("fk_indicator_result_override_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["self_evaluation_id"],
            ["self_evaluation.id"],
            name=op.f("fk_indicator_result_self_evaluation_id_self_evaluation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indicator_result")),
        sa.UniqueConstraint("indicator_id", name=op.f("uq_indicator_result_indicator_id")),
    )
    with op.batch_alter_table("indicator_result", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indicator_result_self_evaluation_id"), ["self_evaluation_id"], unique=False
        )
        batch_op.create_index("ix_indicator_result_year_indicator_id", ["year", "indicator_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("indicator_result", schema=None) as batch_op:
        batch_op.drop_index("ix_indicator_result_year_indicator_id")
        batch_op.drop_index(batch_op.f("ix_indicator_result_self_evaluation_id"))

    op.drop_table("indicator_result")
    with op.batch_alter_table("self_evaluation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_self_evaluation_year"))

    op.drop_table("self_evaluation")
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.drop_index("ix_indicator_year_id")
        batch_op.drop_index(batch_op.f("ix_indicator_project_id"))

    op.drop_table("indicator")
    op.drop_table("import_run")
    op.drop_table("filing_window")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_entity")

    op.drop_table("audit_event")
    op.drop_table("api_token")
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_year"))
        batch_op.drop_index(batch_op.f("ix_project_unit_id"))

    op.drop_table("project")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_user_unit_id"))
        batch_op.drop_index(batch_op.f("ix_app_user_department_id"))

    op.drop_table("app_user")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_department_id"))

    op.drop_table("unit")
    op.drop_table("scoring_template")
    op.drop_table("fiscal_year")
    op.drop_table("department")
