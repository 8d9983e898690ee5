"""reports and statistics: comment authors, likes, local day and hour, daily statistics

Revision ID: e5a7c3d9f1b2
Revises: c4e1f0a9d2b7
Create Date: 2026-11-30 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'e5a7c3d9f1b2'
down_revision: str | None = 'c4e1f0a9d2b7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('vk_comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('likes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('local_day', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('local_hour', sa.SmallInteger(), nullable=True))
        batch_op.create_index(
            'ix_vk_comments_readable_day',
            ['owner_id', 'local_day', 'from_id', 'post_id', 'deleted'],
            unique=False,
            sqlite_where=sa.text('deleted IS 0'),
            postgresql_where=sa.text('deleted IS false'),
        )
    op.create_table(
        'vk_authors',
        sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('name', sa.String(length=512), nullable=False),
        sa.Column('screen_name', sa.String(length=255), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'stats_daily',
        sa.Column('owner_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('comments', sa.Integer(), nullable=False),
        sa.Column('authors', sa.Integer(), nullable=False),
        sa.Column('replies', sa.Integer(), nullable=False),
        sa.Column('likes', sa.Integer(), nullable=False),
        sa.Column('hours', sa.JSON(), nullable=False),
        sa.Column('top_authors', sa.JSON(), nullable=False),
        sa.Column('top_terms', sa.JSON(), nullable=False),
        sa.Column('analyzed', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('owner_id', 'day'),
    )
    op.create_table(
        'stats_dirty_days',
        sa.Column('owner_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('owner_id', 'day'),
    )
    op.create_table(
        'app_state',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('value', sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )


def downgrade() -> None:
    op.drop_table('app_state')
    op.drop_table('stats_dirty_days')
    op.drop_table('stats_daily')
    op.drop_table('vk_authors')
    with op.batch_alter_table('vk_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_vk_comments_readable_day')
        batch_op.drop_column('local_hour')
        batch_op.drop_column('local_day')
        batch_op.drop_column('likes')
