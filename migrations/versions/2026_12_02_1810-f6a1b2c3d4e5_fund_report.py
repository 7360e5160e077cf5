"""fund report: the narrative sections and sign-off of a 专项资金's 自评报告

Revision ID: f6a1b2c3d4e5
Revises: efbd7e8308ed
Create Date: 2026-12-02 18:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.sqltypes

# revision identifiers, used by Alembic.
revision: str = "f6a1b2c3d4e5"
down_revision: str | Sequence[str] | None = "efbd7e8308ed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fund_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("basic", sa.Text(), nullable=True),
        sa.Column("scores", sa.Text(), nullable=True),
        sa.Column("performance", sa.Text(), nullable=True),
        sa.Column("problems", sa.Text(), nullable=True),
        sa.Column("improvements", sa.Text(), nullable=True),
        sa.Column("filled_by", sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("report_date", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["fund_id"], ["special_fund.id"], name=op.f("fk_fund_report_fund_id_special_fund")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["app_user.id"], name=op.f("fk_fund_report_updated_by_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_report")),
        sa.UniqueConstraint("fund_id", name=op.f("uq_fund_report_fund_id")),
    )


def downgrade() -> None:
    op.drop_table("fund_report")
