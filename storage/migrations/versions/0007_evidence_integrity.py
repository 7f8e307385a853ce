"""evidence: per file, the type (as received and as stored), whether its metadata was removed, the time of receipt, its size
and SHA-256 as received from Telegram, and the SHA-256 of the cleaned bytes as stored.

Files stored before this revision have NULLs there (nothing was recorded then).

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-01 10:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_type', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('received_type', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('metadata_removed', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('received_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('size_received', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sha256_received', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sha256_stored', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('sha256_stored')
        batch_op.drop_column('sha256_received')
        batch_op.drop_column('size_received')
        batch_op.drop_column('received_at')
        batch_op.drop_column('metadata_removed')
        batch_op.drop_column('received_type')
        batch_op.drop_column('file_type')
