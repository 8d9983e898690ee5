"""daily term counts: each community's commonest terms per local day, for report keywords

Replaces stats_daily.top_terms (ten terms a day, too few to add up over a period).

Revision ID: f3b8d1c6a4e9
Revises: f3b8d2a6c1e4
Create Date: 2026-11-30 08:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'f3b8d1c6a4e9'
down_revision: str | None = 'f3b8d2a6c1e4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'stats_daily_terms',
        sa.Column('owner_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('term', sa.String(length=255), nullable=False),
        sa.Column('comments', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('owner_id', 'day', 'term'),
    )
    op.create_index(
        'ix_stats_daily_terms_day', 'stats_daily_terms', ['day', 'owner_id', 'term', 'comments']
    )
    with op.batch_alter_table('stats_daily', schema=None) as batch_op:
        batch_op.drop_column('top_terms')
    # Days counted before have no terms stored: mark every analysed day for the next recount.
    op.execute(
        "INSERT INTO stats_dirty_days (owner_id, day, changed_at)"
        " SELECT s.owner_id, s.day, s.updated_at FROM stats_daily s WHERE s.analyzed > 0"
        " AND NOT EXISTS (SELECT 1 FROM stats_dirty_days d"
        " WHERE d.owner_id = s.owner_id AND d.day = s.day)"
    )


def downgrade() -> None:
    with op.batch_alter_table('stats_daily', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('top_terms', sa.JSON(), nullable=False, server_default='[]')
        )
    op.drop_index('ix_stats_daily_terms_day', table_name='stats_daily_terms')
    op.drop_table('stats_daily_terms')
