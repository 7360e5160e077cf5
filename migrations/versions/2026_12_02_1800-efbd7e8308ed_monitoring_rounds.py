"""monitoring rounds: 绩效运行监控 (双监控)

`monitoring_round` is a round the finance bureau opens for a year with a cut-off date;
`monitoring_report` a project's report in it (执行数 as of the date, versioned);
`monitoring_entry` one indicator's progress (完成值, expected year-end value, seasonal share,
judgement, reason and corrective measure).

Revision ID: efbd7e8308ed
Revises: e2a4c6e8f050
Create Date: 2026-12-02 18:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.sqltypes

# revision identifiers, used by Alembic.
revision: str = "efbd7e8308ed"
down_revision: str | Sequence[str] | None = "e2a4c6e8f050"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def upgrade() -> None:
    op.create_table(
        "monitoring_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("cutoff_date", sa.Date(), nullable=False),
        sa.Column("status", _enum("monitoring_round_status", "open", "closed"), nullable=False),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("closed_at", app.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["opened_by_id"], ["app_user.id"], name=op.f("fk_monitoring_round_opened_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(["year"], ["fiscal_year.year"], name=op.f("fk_monitoring_round_year_fiscal_year")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_round")),
        sa.UniqueConstraint("year", name=op.f("uq_monitoring_round_year")),
    )
    op.create_table(
        "monitoring_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("spent", app.sqltypes.ExactDecimal(precision=18, scale=6), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"], name=op.f("fk_monitoring_report_project_id_project")),
        sa.ForeignKeyConstraint(
            ["round_id"], ["monitoring_round.id"], name=op.f("fk_monitoring_report_round_id_monitoring_round")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["app_user.id"], name=op.f("fk_monitoring_report_updated_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_report")),
        sa.UniqueConstraint("round_id", "project_id", name=op.f("uq_monitoring_report_round_id_project_id")),
    )
    op.create_index("ix_monitoring_report_project_id", "monitoring_report", ["project_id"])
    op.create_index("ix_monitoring_report_round_id", "monitoring_report", ["round_id"])
    op.create_table(
        "monitoring_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("progress", sa.Text(), nullable=True),
        sa.Column("progress_parsed", app.sqltypes.JSONType, nullable=True),
        sa.Column("expected_year_end", sa.Text(), nullable=True),
        sa.Column("expected_parsed", app.sqltypes.JSONType, nullable=True),
        sa.Column("expected_share", app.sqltypes.ExactDecimal(precision=7, scale=2), nullable=True),
        sa.Column("judgement", _enum("monitoring_judgement", "green", "yellow", "red"), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("measure", sa.Text(), nullable=True),
        sa.Column("updated_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["indicator_id"], ["indicator.id"], name=op.f("fk_monitoring_entry_indicator_id_indicator")
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["monitoring_report.id"], name=op.f("fk_monitoring_entry_report_id_monitoring_report")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_entry")),
        sa.UniqueConstraint("report_id", "indicator_id", name=op.f("uq_monitoring_entry_report_id_indicator_id")),
    )
    op.create_index("ix_monitoring_entry_indicator_id", "monitoring_entry", ["indicator_id"])
    op.create_index("ix_monitoring_entry_report_id", "monitoring_entry", ["report_id"])


def downgrade() -> None:
    op.drop_index("ix_monitoring_entry_report_id", table_name="monitoring_entry")
    op.drop_index("ix_monitoring_entry_indicator_id", table_name="monitoring_entry")
    op.drop_table("monitoring_entry")
    op.drop_index("ix_monitoring_report_round_id", table_name="monitoring_report")
    op.drop_index("ix_monitoring_report_project_id", table_name="monitoring_report")
    op.drop_table("monitoring_report")
    op.drop_table("monitoring_round")
