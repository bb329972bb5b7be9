"""coverage: a campaign's audience filter and its reason, its cap, a named audience, a series key

Revision ID: 0010_coverage
Revises: 0009_ladder
Create Date: 2026-11-30 06:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0010_coverage'
down_revision: str | None = '0009_ladder'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audience_where', sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column('audience_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True)
        )
        batch_op.add_column(sa.Column('max_recipients', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('named_audience', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column('series_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
        )
        batch_op.create_unique_constraint('uq_campaign_series_key', ['series_key'])


def downgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_constraint('uq_campaign_series_key', type_='unique')
        batch_op.drop_column('series_key')
        batch_op.drop_column('named_audience')
        batch_op.drop_column('max_recipients')
        batch_op.drop_column('audience_reason')
        batch_op.drop_column('audience_where')
