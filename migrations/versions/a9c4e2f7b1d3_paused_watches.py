"""paused watches: the VK error that paused a watch whose community became unreadable

Revision ID: a9c4e2f7b1d3
Revises: f3b8d1c6a4e9
Create Date: 2026-11-30 12:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'a9c4e2f7b1d3'
down_revision: str | None = 'f3b8d1c6a4e9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('watches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_for', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('watches', schema=None) as batch_op:
        batch_op.drop_column('paused_for')
