"""alum: the messages the alum gets about their request, one service campaign each

Revision ID: 0009_alum
Revises: 0008_desk
Create Date: 2026-11-30 05:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import alumni.models


revision: str = '0009_alum'
down_revision: str | None = '0008_desk'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('requestnotice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('created_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['requestevent.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['request_id'], ['request.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id'),
    sa.UniqueConstraint('request_id', 'key')
    )
    with op.batch_alter_table('requestnotice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requestnotice_request_id'), ['request_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('requestnotice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_requestnotice_request_id'))

    op.drop_table('requestnotice')
