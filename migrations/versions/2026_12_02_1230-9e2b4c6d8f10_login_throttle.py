"""login throttle: failed logins per account, address and pair

Revision ID: 9e2b4c6d8f10
Revises: 8d4e6f2a3b71
Create Date: 2026-12-02 12:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.sqltypes

# revision identifiers, used by Alembic.
revision: str = "9e2b4c6d8f10"
down_revision: str | Sequence[str] | None = "8d4e6f2a3b71"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "scope",
            sa.Enum(
                "account",
                "address",
                "pair",
                name="login_throttle_scope",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", app.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("blocked_until", app.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_success_at", app.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_throttle")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_login_throttle_scope_key")),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
