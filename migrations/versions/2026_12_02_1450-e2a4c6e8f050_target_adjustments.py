"""target adjustments: 调整 requests of approved 绩效目标表 and the table's version

`target_adjustment` holds each request (reason, the changes with the value before each, its
own status reviewed like the table); `project.target_version` counts the versions that took
effect; `self_evaluation.target_version` records which version the scores were computed against.

Revision ID: e2a4c6e8f050
Revises: d5a7c9e1f310
Create Date: 2026-12-02 14:50:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.sqltypes

# revision identifiers, used by Alembic.
revision: str = "e2a4c6e8f050"
down_revision: str | Sequence[str] | None = "d5a7c9e1f310"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("draft", "declared", "department_approved", "approved", "returned")


def upgrade() -> None:
    op.create_table(
        "target_adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="adjustment_status", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changes", app.sqltypes.JSONType, nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("opinion", sa.Text(), nullable=True),
        sa.Column("applied_version", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.ForeignKeyConstraint(["requested_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "number"),
    )
    op.create_index("ix_target_adjustment_project_id", "target_adjustment", ["project_id"])
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_version", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("self_evaluation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+ has it): batch mode would copy and rename project and
    # self_evaluation, which the unit_stats triggers of the revision before this one refer to.
    op.drop_column("self_evaluation", "target_version")
    op.drop_column("project", "target_version")
    op.drop_index("ix_target_adjustment_project_id", table_name="target_adjustment")
    op.drop_table("target_adjustment")
