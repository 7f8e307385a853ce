"""advocacy: the exports audit table (an export spans many cases, so it is not a case event)
and an index for the statistics' scan of consenting cases by date.

Revision ID: 0009
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('exports',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=12), nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('with_text', sa.Boolean(), nullable=False),
    sa.Column('since', sa.String(length=7), nullable=True),
    sa.Column('until', sa.String(length=7), nullable=True),
    sa.Column('case_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exports'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_stats', ['consent_stats', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_stats')
    op.drop_table('exports')
