"""faults: fsm_updates (the last update ids applied per FSM key, written with the state and
the draft in one transaction) and key_check (start-up refuses keys that cannot read the data).

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01 10:00:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('fsm_updates',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('recent', sa.String(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_fsm_updates'))
    )
    with op.batch_alter_table('fsm_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fsm_updates_updated_at'), ['updated_at'], unique=False)

    op.create_table('key_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.LargeBinary(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_check'))
    )


def downgrade() -> None:
    op.drop_table('key_check')
    with op.batch_alter_table('fsm_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fsm_updates_updated_at'))
    op.drop_table('fsm_updates')
