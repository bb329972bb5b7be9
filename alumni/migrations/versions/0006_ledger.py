"""ledger: when a claimed row was handed to its transport (honest in-flight accounting)

Revision ID: 0006_ledger
Revises: 0005_people
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import alumni.models


revision: str = '0006_ledger'
down_revision: str | None = '0005_people'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ('delivery', 'socialpost'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('handed_at', alumni.models.UTCDateTime(timezone=True), nullable=True)
            )


def downgrade() -> None:
    for table in ('socialpost', 'delivery'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('handed_at')
