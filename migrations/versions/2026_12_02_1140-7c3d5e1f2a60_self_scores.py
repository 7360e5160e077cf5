"""self scores: a unit's own score for a row, with its reason

Revision ID: 7c3d5e1f2a60
Revises: 5b1e7c2d9a40
Create Date: 2026-12-02 11:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.sqltypes

# revision identifiers, used by Alembic.
revision: str = "7c3d5e1f2a60"
down_revision: str | Sequence[str] | None = "5b1e7c2d9a40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("indicator_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("self_score", app.sqltypes.ExactDecimal(precision=10, scale=2), nullable=True))
        batch_op.add_column(sa.Column("self_score_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("indicator_result", schema=None) as batch_op:
        batch_op.drop_column("self_score_reason")
        batch_op.drop_column("self_score")
