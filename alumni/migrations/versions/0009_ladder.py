"""ladder: the office notices channel (escalation rungs, owners' digests)

Revision ID: 0009_ladder
Revises: 0009_desk
Create Date: 2026-11-30 04:19:20
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import alumni.models


revision: str = '0009_ladder'
down_revision: str | None = '0009_desk'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('officenotice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('deadline_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('deadline_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rung', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('medium', sa.String(length=8), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('due_at', alumni.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('maybe_duplicate', sa.Boolean(), nullable=False),
    sa.Column('claimed_at', alumni.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('handed_at', alumni.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', alumni.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('created_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['request.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id'),
    sa.UniqueConstraint('topic', 'deadline_kind', 'deadline_at', 'rung', 'recipient')
    )
    with op.batch_alter_table('officenotice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_officenotice_request_id'), ['request_id'], unique=False)
        batch_op.create_index('ix_officenotice_status_due', ['status', 'due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('officenotice', schema=None) as batch_op:
        batch_op.drop_index('ix_officenotice_status_due')
        batch_op.drop_index(batch_op.f('ix_officenotice_request_id'))

    op.drop_table('officenotice')
