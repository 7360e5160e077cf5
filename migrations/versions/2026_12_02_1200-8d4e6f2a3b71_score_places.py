"""score places: the precision (template rounding_places) scores were stored at

Revision ID: 8d4e6f2a3b71
Revises: 7c3d5e1f2a60
Create Date: 2026-12-02 12:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

# revision identifiers, used by Alembic.
revision: str = "8d4e6f2a3b71"
down_revision: str | Sequence[str] | None = "7c3d5e1f2a60"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


template = sa.table(
    "scoring_template",
    sa.column("id", sa.Integer),
    sa.column("settings", sa.JSON().with_variant(JSONB(), "postgresql")),
)
evaluation = sa.table(
    "self_evaluation", sa.column("id", sa.Integer), sa.column("template_id", sa.Integer), sa.column("score_places")
)
result = sa.table("indicator_result", sa.column("self_evaluation_id", sa.Integer), sa.column("score_places"))


def upgrade() -> None:
    with op.batch_alter_table("self_evaluation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("score_places", sa.Integer(), server_default="2", nullable=False))
    with op.batch_alter_table("indicator_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("score_places", sa.Integer(), server_default="2", nullable=False))
    # Evaluations already scored by a template that rounds otherwise (0 or 1 places) say so.
    bind = op.get_bind()
    for row in bind.execute(sa.select(template.c.id, template.c.settings)).all():
        places = (row.settings or {}).get("rounding_places", 2)
        if not isinstance(places, int) or places == 2:
            continue
        ids = sa.select(evaluation.c.id).where(evaluation.c.template_id == row.id)
        bind.execute(sa.update(evaluation).where(evaluation.c.template_id == row.id).values(score_places=places))
        bind.execute(sa.update(result).where(result.c.self_evaluation_id.in_(ids)).values(score_places=places))


def downgrade() -> None:
    with op.batch_alter_table("indicator_result", schema=None) as batch_op:
        batch_op.drop_column("score_places")
    with op.batch_alter_table("self_evaluation", schema=None) as batch_op:
        batch_op.drop_column("score_places")
