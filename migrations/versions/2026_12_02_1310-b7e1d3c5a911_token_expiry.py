"""token expiry: api_token.expires_at

Tokens are refused from `expires_at` on. Tokens that exist when this runs expire one year
from now (they never expired before; none stops working at upgrade). Their stored `scope`
("read write") is kept as it is: review and admin powers need a new token.

Revision ID: b7e1d3c5a911
Revises: a1c3e5f7b902
Create Date: 2026-12-02 13:10:00

"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

import app.sqltypes

# revision identifiers, used by Alembic.
revision: str = "b7e1d3c5a911"
down_revision: str | Sequence[str] | None = "a1c3e5f7b902"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", app.sqltypes.UTCDateTime(), nullable=True))
    token = sa.table("api_token", sa.column("expires_at", app.sqltypes.UTCDateTime()))
    op.execute(token.update().values(expires_at=datetime.now(UTC) + timedelta(days=365)))


def downgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
