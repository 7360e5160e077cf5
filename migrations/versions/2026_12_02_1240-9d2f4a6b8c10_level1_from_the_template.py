"""level1 from the template: drop the CHECK that fixed it to output/outcome/satisfaction

The level-1 categories are the scoring template's structure (app/domain/categories.py), so
the database no longer lists them; the import validates against the template in force.

Revision ID: 9d2f4a6b8c10
Revises: 9e2b4c6d8f10
Create Date: 2026-12-02 12:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "9d2f4a6b8c10"
down_revision: str | Sequence[str] | None = "9e2b4c6d8f10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVEL1 = ("output", "outcome", "satisfaction")


def upgrade() -> None:
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_indicator_level1"), type_="check")
        batch_op.alter_column(
            "level1",
            existing_type=sa.Enum(*LEVEL1, name="level1", native_enum=False, length=20),
            type_=sa.String(length=40),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("indicator", schema=None) as batch_op:
        batch_op.alter_column(
            "level1", existing_type=sa.String(length=40), type_=sa.String(length=20), existing_nullable=False
        )
        batch_op.create_check_constraint("level1", sa.column("level1").in_(LEVEL1))
