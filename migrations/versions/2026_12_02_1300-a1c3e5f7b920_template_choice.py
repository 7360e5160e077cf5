"""template choice: the scoring template a year (optionally a department) uses

Revision ID: a1c3e5f7b920
Revises: 9d2f4a6b8c10
Create Date: 2026-12-02 13:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.sqltypes

# revision identifiers, used by Alembic.
revision: str = "a1c3e5f7b920"
down_revision: str | Sequence[str] | None = "9d2f4a6b8c10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "template_choice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("template_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("chosen_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("chosen_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name=op.f("fk_template_choice_department_id_department")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_choice")),
        sa.UniqueConstraint("year", "department_id", name=op.f("uq_template_choice_year_department_id")),
    )
    op.create_index(
        "uq_template_choice_year_wide",
        "template_choice",
        ["year"],
        unique=True,
        sqlite_where=sa.text("department_id IS NULL"),
        postgresql_where=sa.text("department_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_template_choice_year_wide", table_name="template_choice")
    op.drop_table("template_choice")
