"""tracking: what the mailbox brings back, preferences, last two-way contact, requests

Inbound messages are claimed one row each (unique digest and mailbox UID), so two runs at
once handle each message once; the cursor remembers where reading stopped.

Revision ID: 0007_tracking
Revises: 0006_ledger
Create Date: 2026-11-30 03:21:53
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import alumni.models


revision: str = '0007_tracking'
down_revision: str | None = '0006_ledger'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mailboxcursor',
    sa.Column('mailbox', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
    sa.Column('last_uid', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('mailbox')
    )
    op.create_table('preference',
    sa.Column('alumnus_id', sa.Integer(), nullable=False),
    sa.Column('channels', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('frequency', sa.String(length=16), nullable=False),
    sa.Column('paused_until', alumni.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alumnus_id'], ['alumnus.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('alumnus_id')
    )
    op.create_table('inboundmessage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('mailbox', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
    sa.Column('uid', sa.BigInteger(), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('sender', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('delivery_id', sa.Integer(), nullable=True),
    sa.Column('alumnus_id', sa.Integer(), nullable=True),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('claimed_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('processed_at', alumni.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('moved_at', alumni.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['alumnus_id'], ['alumnus.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['delivery_id'], ['delivery.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('digest'),
    sa.UniqueConstraint('mailbox', 'uidvalidity', 'uid')
    )
    op.create_table('request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('alumnus_id', sa.Integer(), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_update_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alumnus_id'], ['alumnus.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['response.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('response_id')
    )
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_alumnus_id'), ['alumnus_id'], unique=False)

    with op.batch_alter_table('alumnus', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_two_way_at', alumni.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_two_way_channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))

    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
        batch_op.create_index(batch_op.f('ix_response_delivery_id'), ['delivery_id'], unique=False)
        batch_op.create_foreign_key('fk_response_delivery_id', 'delivery', ['delivery_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint('fk_response_delivery_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_response_delivery_id'))
        batch_op.drop_column('detail')
        batch_op.drop_column('delivery_id')

    with op.batch_alter_table('alumnus', schema=None) as batch_op:
        batch_op.drop_column('last_two_way_channel')
        batch_op.drop_column('last_two_way_at')

    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_alumnus_id'))

    op.drop_table('request')
    op.drop_table('inboundmessage')
    op.drop_table('preference')
    op.drop_table('mailboxcursor')
