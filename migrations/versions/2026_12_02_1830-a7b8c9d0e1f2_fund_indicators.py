"""fund indicators: a 专项资金's own 绩效目标 indicators with their actuals

Revision ID: a7b8c9d0e1f2
Revises: f6a1b2c3d4e5
Create Date: 2026-12-02 18:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.sqltypes

# revision identifiers, used by Alembic.
revision: str = "a7b8c9d0e1f2"
down_revision: str | Sequence[str] | None = "f6a1b2c3d4e5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fund_indicator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("level1", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("level2", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("annual_target", sa.Text(), nullable=False),
        sa.Column("actual", sa.Text(), nullable=True),
        sa.Column("qualitative_level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("weight", app.sqltypes.ExactDecimal(precision=10, scale=2), nullable=True),
        sa.Column("deviation_reason", sa.Text(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["fund_id"], ["special_fund.id"], name=op.f("fk_fund_indicator_fund_id_special_fund")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_indicator")),
    )
    op.create_index(op.f("ix_fund_indicator_fund_id"), "fund_indicator", ["fund_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_fund_indicator_fund_id"), table_name="fund_indicator")
    op.drop_table("fund_indicator")
