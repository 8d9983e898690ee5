"""schedules: watches, digest subscriptions, the time each comment was stored

Revision ID: f3b8d2a6c1e4
Revises: e5a7c3d9f1b2
Create Date: 2026-11-30 08:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'f3b8d2a6c1e4'
down_revision: str | None = 'e5a7c3d9f1b2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('vk_comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stored_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'watches',
        sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('group', sa.String(length=255), nullable=False),
        sa.Column('minutes', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('chat_id', 'group'),
    )
    op.create_table(
        'digest_subscriptions',
        sa.Column('chat_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('subscribed_by', sa.BigInteger(), nullable=False),
        sa.Column('subscribed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('chat_id'),
    )


def downgrade() -> None:
    op.drop_table('digest_subscriptions')
    op.drop_table('watches')
    with op.batch_alter_table('vk_comments', schema=None) as batch_op:
        batch_op.drop_column('stored_at')
