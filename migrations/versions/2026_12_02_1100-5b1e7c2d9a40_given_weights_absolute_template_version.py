"""given 分值 as absolute points: a new version of every stored scoring template

Templates stored before the setting existed are read with it off (they keep scoring as they
did). The national rule is now on by default, so each template whose current version lacks
the setting gets a new current version with it on; evaluations keep the version that scored
them until they are rescored on purpose (jixiao scoring rescore). Data only, no schema change.

Revision ID: 5b1e7c2d9a40
Revises: a8d58f1674cc
Create Date: 2026-12-02 11:00:00

"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

# revision identifiers, used by Alembic.
revision: str = "5b1e7c2d9a40"
down_revision: str | Sequence[str] | None = "a8d58f1674cc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "given_weights_absolute"

template = sa.table(
    "scoring_template",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("version", sa.Integer),
    sa.column("title", sa.String),
    sa.column("settings", sa.JSON().with_variant(JSONB(), "postgresql")),
    sa.column("is_current", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(template.c.id, template.c.name, template.c.version, template.c.title, template.c.settings).where(
            template.c.is_current.is_(True)
        )
    ).all()
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored as naive UTC there (app.sqltypes.UTCDateTime)
    for row in rows:
        if KEY in (row.settings or {}):
            continue
        bind.execute(sa.update(template).where(template.c.id == row.id).values(is_current=False))
        bind.execute(
            sa.insert(template).values(
                name=row.name,
                version=row.version + 1,
                title=row.title,
                settings={**(row.settings or {}), KEY: True},
                is_current=True,
                created_at=now,
            )
        )


def downgrade() -> None:
    # The versions added above are left in place: evaluations may already have been scored with them.
    pass
