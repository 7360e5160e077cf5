"""target table status and version: the 绩效目标表's lifecycle and optimistic locking

Projects get `target_status` (draft / declared / department_approved / approved / returned;
existing, imported tables are 已批复 `approved`) and `version` for the /api/v1 writes.

Revision ID: a1c3e5f7b902
Revises: a1c3e5f7b920
Create Date: 2026-12-02 13:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a1c3e5f7b902"
down_revision: str | Sequence[str] | None = "a1c3e5f7b920"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TARGET_STATUSES = ("draft", "declared", "department_approved", "approved", "returned")


def upgrade() -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "target_status",
                sa.Enum(*TARGET_STATUSES, name="target_status", native_enum=False, create_constraint=True, length=20),
                nullable=False,
                server_default="approved",
            )
        )
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_project_target_status"), type_="check")
        batch_op.drop_column("version")
        batch_op.drop_column("target_status")
