"""indicator and indicator_result partitioned by year (PostgreSQL)

The whole step is app/services/partition.py (its docstring says what changes: keys gain the year, one
partition per year present and the next, a DEFAULT partition, the references from monitoring_entry);
this revision records on the database that it was taken, in alembic_version_partition.

Revision ID: 9a0b1c2d3e4f
Revises:
Create Date: 2026-12-03 13:00:00

"""

from collections.abc import Sequence

from alembic import context, op

from app.services import partition

revision: str = "9a0b1c2d3e4f"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    context.config.attributes["outcome"] = partition.partition_by_year(op.get_bind())


def downgrade() -> None:
    context.config.attributes["outcome"] = partition.unpartition(op.get_bind())
