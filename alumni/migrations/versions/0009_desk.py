"""desk: the alum asked for a referral's introduction

Revision ID: 0009_desk
Revises: 0009_alum
Create Date: 2026-11-30 04:18:39
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009_desk'
down_revision: str | None = '0009_alum'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asked_alumnus_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_request_asked_alumnus_id', 'alumnus', ['asked_alumnus_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('request', schema=None) as batch_op:
        batch_op.drop_constraint('fk_request_asked_alumnus_id', type_='foreignkey')
        batch_op.drop_column('asked_alumnus_id')
