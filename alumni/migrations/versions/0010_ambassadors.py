"""ambassadors: drafts, ambassador digests, share links and sign-ups

Revision ID: 0010_ambassadors
Revises: 0010_fresh
Create Date: 2026-11-30 06:27:26.130417
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import alumni.models


revision: str = '0010_ambassadors'
down_revision: str | None = '0010_fresh'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ambassadordigest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('class_year', sa.Integer(), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('created_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id'),
    sa.UniqueConstraint('class_year', 'month')
    )
    with op.batch_alter_table('ambassadordigest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ambassadordigest_class_year'), ['class_year'], unique=False)

    op.create_table('campaigndraft',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('drafted_by', sa.Integer(), nullable=True),
    sa.Column('drafted_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('approved_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('approved_at', alumni.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['drafted_by'], ['alumnus.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('campaign_id')
    )
    with op.batch_alter_table('campaigndraft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigndraft_drafted_by'), ['drafted_by'], unique=False)

    op.create_table('sharelink',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alumnus_id', sa.Integer(), nullable=False),
    sa.Column('class_year', sa.Integer(), nullable=False),
    sa.Column('created_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alumnus_id'], ['alumnus.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('alumnus_id', 'class_year')
    )
    with op.batch_alter_table('sharelink', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sharelink_alumnus_id'), ['alumnus_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sharelink_class_year'), ['class_year'], unique=False)

    op.create_table('signup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('share_link_id', sa.Integer(), nullable=True),
    sa.Column('class_year', sa.Integer(), nullable=False),
    sa.Column('first_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('last_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=35), nullable=True),
    sa.Column('consent_news', sa.Boolean(), nullable=False),
    sa.Column('created_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', alumni.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('alumnus_id', sa.Integer(), nullable=True),
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
    sa.ForeignKeyConstraint(['alumnus_id'], ['alumnus.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    with op.batch_alter_table('signup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signup_alumnus_id'), ['alumnus_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signup_class_year'), ['class_year'], unique=False)
        batch_op.create_index(batch_op.f('ix_signup_share_link_id'), ['share_link_id'], unique=False)
        batch_op.create_index('ix_signup_status_due', ['status', 'due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('signup', schema=None) as batch_op:
        batch_op.drop_index('ix_signup_status_due')
        batch_op.drop_index(batch_op.f('ix_signup_share_link_id'))
        batch_op.drop_index(batch_op.f('ix_signup_class_year'))
        batch_op.drop_index(batch_op.f('ix_signup_alumnus_id'))

    op.drop_table('signup')
    with op.batch_alter_table('sharelink', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sharelink_class_year'))
        batch_op.drop_index(batch_op.f('ix_sharelink_alumnus_id'))

    op.drop_table('sharelink')
    with op.batch_alter_table('campaigndraft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigndraft_drafted_by'))

    op.drop_table('campaigndraft')
    with op.batch_alter_table('ambassadordigest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ambassadordigest_class_year'))

    op.drop_table('ambassadordigest')
