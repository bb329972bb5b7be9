"""desk: the request desk's clock (pauses), audit trail and the request's own fields

Revision ID: 0008_desk
Revises: 0007_tracking
Create Date: 2026-11-30 04:13:31
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import alumni.models


revision: str = '0008_desk'
down_revision: str | None = '0007_tracking'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('requestevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    sa.Column('to_alum', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['request.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('requestevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requestevent_request_id'), ['request_id'], unique=False)

    op.create_table('requestpause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('started_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', alumni.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['request.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('requestpause', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requestpause_request_id'), ['request_id'], unique=False)

    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline', alumni.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_response_at', alumni.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('closed_at', alumni.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('referee', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True))
        batch_op.add_column(sa.Column('identity_checked_at', alumni.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('identity_checked_by', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True))
        batch_op.add_column(sa.Column('decision', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))
        batch_op.add_column(
            sa.Column('escalation_level', sa.Integer(), nullable=False, server_default='0')
        )
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.alter_column('escalation_level', server_default=None)



def downgrade() -> None:
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.drop_column('escalation_level')
        batch_op.drop_column('decision_reason')
        batch_op.drop_column('decision')
        batch_op.drop_column('identity_checked_by')
        batch_op.drop_column('identity_checked_at')
        batch_op.drop_column('referee')
        batch_op.drop_column('outcome')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('first_response_at')
        batch_op.drop_column('deadline')

    with op.batch_alter_table('requestpause', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_requestpause_request_id'))

    op.drop_table('requestpause')
    with op.batch_alter_table('requestevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_requestevent_request_id'))

    op.drop_table('requestevent')
