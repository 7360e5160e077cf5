"""import heartbeat: the process running an import writes heartbeat_at, so other replicas can tell a dead run

Revision ID: b8c9d0e1f2a3
Revises: a7b8c9d0e1f2
Create Date: 2026-12-03 06:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.sqltypes

# revision identifiers, used by Alembic.
revision: str = "b8c9d0e1f2a3"
down_revision: str | Sequence[str] | None = "a7b8c9d0e1f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("import_run", sa.Column("heartbeat_at", app.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("import_run", "heartbeat_at")
