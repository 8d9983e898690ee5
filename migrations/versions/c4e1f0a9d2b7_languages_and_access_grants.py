"""languages and access grants

Revision ID: c4e1f0a9d2b7
Revises: ba7e29da10a8
Create Date: 2026-11-30 05:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'c4e1f0a9d2b7'
down_revision: str | None = 'ba7e29da10a8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('user_languages',
    sa.Column('user_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('access_grants',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('target_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('granted_by', sa.BigInteger(), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('kind', 'target_id')
    )
    with op.batch_alter_table('job_audit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('job_audit', schema=None) as batch_op:
        batch_op.drop_column('language')
    op.drop_table('access_grants')
    op.drop_table('user_languages')
