"""indexes for year-wide keyset lists

Revision ID: a8d58f1674cc
Revises: ec74de4309ac
Create Date: 2026-11-22 11:50:22.330454

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a8d58f1674cc"
down_revision: str | Sequence[str] | None = "ec74de4309ac"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("indicator_result", schema=None) as batch_op:
        batch_op.create_index(
            "ix_indicator_result_covering", ["indicator_id"], unique=False, postgresql_include=["met", "score"]
        )
        batch_op.create_index(
            "ix_indicator_result_unmet",
            ["year", "indicator_id"],
            unique=False,
            postgresql_where=sa.text("NOT met"),
            sqlite_where=sa.text("NOT met"),
        )

    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.create_index("ix_project_year_id", ["year", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_index("ix_project_year_id")

    with op.batch_alter_table("indicator_result", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_indicator_result_unmet", postgresql_where=sa.text("NOT met"), sqlite_where=sa.text("NOT met")
        )
        batch_op.drop_index("ix_indicator_result_covering", postgresql_include=["met", "score"])
