"""fresh: still-yours detail checks and reach tips

Revision ID: 0010_fresh
Revises: 0010_coverage
Create Date: 2026-11-30 06:32:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import alumni.models


revision: str = '0010_fresh'
down_revision: str | None = '0010_coverage'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('detailcheck',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_point_id', sa.Integer(), nullable=False),
    sa.Column('alumnus_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('reasons', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('asked_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alumnus_id'], ['alumnus.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_point_id'], ['contactpoint.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'contact_point_id')
    )
    with op.batch_alter_table('detailcheck', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_detailcheck_alumnus_id'), ['alumnus_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_detailcheck_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_detailcheck_contact_point_id'), ['contact_point_id'], unique=False)

    op.create_table('reachtip',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lost_alumnus_id', sa.Integer(), nullable=False),
    sa.Column('tipster_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('how_known', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', alumni.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    sa.Column('contact_point_id', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('consent_answer', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('answered_at', alumni.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_point_id'], ['contactpoint.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lost_alumnus_id'], ['alumnus.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['request.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tipster_id'], ['alumnus.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tipster_id', 'lost_alumnus_id')
    )
    with op.batch_alter_table('reachtip', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reachtip_lost_alumnus_id'), ['lost_alumnus_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reachtip_tipster_id'), ['tipster_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('reachtip', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reachtip_tipster_id'))
        batch_op.drop_index(batch_op.f('ix_reachtip_lost_alumnus_id'))

    op.drop_table('reachtip')
    with op.batch_alter_table('detailcheck', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_detailcheck_contact_point_id'))
        batch_op.drop_index(batch_op.f('ix_detailcheck_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_detailcheck_alumnus_id'))

    op.drop_table('detailcheck')
