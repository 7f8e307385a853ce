"""privacy: the message trace for "Erase this chat" (message ids only, encrypted, kept 48 hours)
and cases.purged_at for the retention worker.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 08:07:26.542954
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('message_trace',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('chat_key', sa.String(length=64), nullable=False),
    sa.Column('message_enc', sa.LargeBinary(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_trace'))
    )
    with op.batch_alter_table('message_trace', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_trace_chat_key'), ['chat_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_trace_sent_at'), ['sent_at'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('purged_at')

    with op.batch_alter_table('message_trace', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_trace_sent_at'))
        batch_op.drop_index(batch_op.f('ix_message_trace_chat_key'))

    op.drop_table('message_trace')
