"""casework for a team: queue indexes, urgent re-alerts, duplicate links, spam blocks.

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-01 09:50:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('realerted_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('duplicate_of', sa.Integer(), nullable=True))
        batch_op.create_index('ix_cases_queue', ['status', 'urgent', 'created_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_cases_assignee', ['assignee_id', 'status'], unique=False)
        batch_op.create_index('ix_cases_region_queue',
                              ['region', 'status', 'urgent', 'created_at'], unique=False)
        batch_op.create_index('ix_cases_kind_queue',
                              ['facility_kind', 'status', 'urgent', 'created_at'], unique=False)

    op.create_table('spam_blocks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('block_key', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'],
                            name=op.f('fk_spam_blocks_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spam_blocks'))
    )
    with op.batch_alter_table('spam_blocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spam_blocks_block_key'), ['block_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_spam_blocks_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('spam_blocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spam_blocks_case_id'))
        batch_op.drop_index(batch_op.f('ix_spam_blocks_block_key'))
    op.drop_table('spam_blocks')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_kind_queue')
        batch_op.drop_index('ix_cases_region_queue')
        batch_op.drop_index('ix_cases_assignee')
        batch_op.drop_index('ix_cases_queue')
        batch_op.drop_column('duplicate_of')
        batch_op.drop_column('realerted_at')
