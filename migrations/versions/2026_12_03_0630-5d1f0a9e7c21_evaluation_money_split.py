"""evaluation money split: the 其中 rows (本年财政拨款 / 上年结转资金 / 其他资金) of 全年预算数 and of
全年执行数 that the unit reports on its 自评表; old tables' one budget figure kept as 年初预算数

Revision ID: 5d1f0a9e7c21
Revises: c9d0e1f2a3b4
Create Date: 2026-12-03 06:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.sqltypes

# revision identifiers, used by Alembic.
revision: str = "5d1f0a9e7c21"
down_revision: str | Sequence[str] | None = "c9d0e1f2a3b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    "budget_fiscal_funds",
    "budget_carried_over",
    "budget_other_funds",
    "spent_fiscal_funds",
    "spent_carried_over",
    "spent_other_funds",
)


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column(
            "self_evaluation", sa.Column(name, app.sqltypes.ExactDecimal(precision=18, scale=6), nullable=True)
        )
    # The import used to map the table's one budget column to 全年预算数 only: that figure is the
    # 年初预算数 the table was approved with (a figure the unit typed itself is not).
    op.execute(
        "UPDATE project SET initial_budget = budget "
        "WHERE initial_budget IS NULL AND budget IS NOT NULL AND NOT budget_entered_by_unit"
    )


def downgrade() -> None:
    for name in reversed(COLUMNS):
        op.drop_column("self_evaluation", name)
