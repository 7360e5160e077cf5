"""target quality summary: each project keeps the counts of its last quality check

The department's and the bureau's quality dashboard lists a year's 绩效目标表 worst first; the
counts are kept on the project (written with every change of its indicators and by the import)
so the list is one indexed query at province scale instead of a re-parse of every target.
NULL means "not checked yet" (tables stored before this revision): `jixiao targets recheck`
fills them.

Revision ID: c4d2e6f8a130
Revises: c4e6a8b0d213
Create Date: 2026-12-02 14:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.sqltypes

# revision identifiers, used by Alembic.
revision: str = "c4d2e6f8a130"
down_revision: str | Sequence[str] | None = "c4e6a8b0d213"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quality_errors", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("quality_warnings", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("quality_not_measurable", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("quality_share", app.sqltypes.ExactDecimal(precision=5, scale=2), nullable=True))
    op.create_index("ix_project_year_quality", "project", ["year", "quality_errors", "quality_not_measurable", "id"])


def downgrade() -> None:
    op.drop_index("ix_project_year_quality", table_name="project")
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_column("quality_share")
        batch_op.drop_column("quality_not_measurable")
        batch_op.drop_column("quality_warnings")
        batch_op.drop_column("quality_errors")
