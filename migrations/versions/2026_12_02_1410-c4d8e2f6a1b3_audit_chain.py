"""audit chain: audit_event.stream, seq, prev_hash, hash; unique (stream, seq)

Every audit event joins a stream (its entity's, or its actor's when it is about no single row)
and is chained to the event before it by SHA-256 (app/services/audit.py). Events that exist when
this runs are chained in the order they were written (by id), so `jixiao audit verify` accepts
them as they are from now on.

The application's own PostgreSQL role (JIXIAO_DB_APP_ROLE) gets its grants after every
migration, not here: see migrations/env.py.

Revision ID: c4d8e2f6a1b3
Revises: c4d2e6f8a130
Create Date: 2026-12-02 14:10:00

"""

from collections.abc import Sequence
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

import app.sqltypes
from app.services.audit import GENESIS, event_hash, stream_of

# revision identifiers, used by Alembic.
revision: str = "c4d8e2f6a1b3"
down_revision: str | Sequence[str] | None = "c4d2e6f8a130"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stream", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))

    event = sa.table(
        "audit_event",
        sa.column("id", sa.Integer()),
        sa.column("at", app.sqltypes.UTCDateTime()),
        sa.column("user_id", sa.Integer()),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("entity_type", sa.String()),
        sa.column("entity_id", sa.Integer()),
        sa.column("before", app.sqltypes.JSONType),
        sa.column("after", app.sqltypes.JSONType),
        sa.column("note", sa.Text()),
        sa.column("stream", sa.String()),
        sa.column("seq", sa.Integer()),
        sa.column("prev_hash", sa.String()),
        sa.column("hash", sa.String()),
    )
    bind = op.get_bind()
    heads: dict[str, tuple[int, str]] = {}
    rows = bind.execute(sa.select(event).order_by(event.c.id)).mappings().all()
    for row in rows:
        stream = stream_of(row["entity_type"], row["entity_id"], row["actor"])
        seq, prev = heads.get(stream, (0, GENESIS))
        item = SimpleNamespace(**dict(row), stream=stream, seq=seq + 1, prev_hash=prev)
        digest = event_hash(item)
        heads[stream] = (seq + 1, digest)
        bind.execute(
            event.update()
            .where(event.c.id == row["id"])
            .values(stream=stream, seq=seq + 1, prev_hash=prev, hash=digest)
        )

    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("stream", existing_type=sa.String(length=200), nullable=False)
        batch_op.alter_column("seq", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_event_stream_seq"), ["stream", "seq"])
        batch_op.create_index("ix_audit_event_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_at")
        batch_op.drop_constraint(batch_op.f("uq_audit_event_stream_seq"), type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
        batch_op.drop_column("stream")
