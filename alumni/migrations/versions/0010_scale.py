"""scale: the campaign records the preflight that passed, so a joining run does not repeat it

Revision ID: 0010_scale
Revises: 0010_ambassadors
Create Date: 2026-11-30 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alumni.models


revision: str = '0010_scale'
down_revision: str | None = '0010_ambassadors'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('preflighted_at', alumni.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('preflighted_through', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('preflighted_through')
        batch_op.drop_column('preflighted_at')
