"""keyed suppression hashes and the erasure list

Existing suppression rows hold salted hashes: they are marked ``keyed = false`` and stay
honoured (alumni/people/suppression.py); new rows are HMACs under a key kept outside the
database.

Revision ID: 0005_people
Revises: 0004
Create Date: 2026-11-30 01:33:09.165445
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import alumni.models


revision: str = '0005_people'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('erasedidentifier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('value_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('erased_at', alumni.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('value_hash')
    )
    # Every row already there is an old salted hash.
    with op.batch_alter_table('suppression', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('keyed', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table('suppression', schema=None) as batch_op:
        batch_op.alter_column('keyed', server_default=None)


def downgrade() -> None:
    # The old code can neither read keyed hashes nor the erasure list: refuse to lose them.
    connection = op.get_bind()
    keyed = connection.execute(sa.text('SELECT count(*) FROM suppression WHERE keyed')).scalar()
    erased = connection.execute(sa.text('SELECT count(*) FROM erasedidentifier')).scalar()
    if keyed or erased:
        raise RuntimeError(
            f'{keyed} suppression(s) and {erased} erased identifier(s) are keyed hashes that '
            'revision 0004 cannot read: downgrading would lose them. Restore a backup instead.'
        )
    with op.batch_alter_table('suppression', schema=None) as batch_op:
        batch_op.drop_column('keyed')

    op.drop_table('erasedidentifier')
