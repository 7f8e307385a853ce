"""phone: sent drafts (idempotent Send, the code kept encrypted until saved) and limit marks
(wrong codes, daily reports, surge alerts) that survive Forget me and expire on their own.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sent_drafts',
    sa.Column('draft_key', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('code_enc', sa.LargeBinary(), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_sent_drafts_case_id_cases'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('draft_key', name=op.f('pk_sent_drafts'))
    )
    with op.batch_alter_table('sent_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sent_drafts_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sent_drafts_created_at'), ['created_at'],
                              unique=False)
    op.create_table('limit_marks',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_limit_marks'))
    )
    with op.batch_alter_table('limit_marks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_limit_marks_key_hash'), ['key_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_limit_marks_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('limit_marks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_limit_marks_at'))
        batch_op.drop_index(batch_op.f('ix_limit_marks_key_hash'))
    op.drop_table('limit_marks')
    with op.batch_alter_table('sent_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sent_drafts_created_at'))
        batch_op.drop_index(batch_op.f('ix_sent_drafts_case_id'))
    op.drop_table('sent_drafts')
