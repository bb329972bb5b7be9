"""templates: the campaign records the templates its passed preflight rendered with (a digest),
so a run that joins after a template was edited renders every unsent recipient again

Revision ID: 0011_templates
Revises: 0010_scale
Create Date: 2026-11-30 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011_templates'
down_revision: str | None = '0010_scale'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('preflight_templates', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('preflight_templates')
