"""fsm_records: aiogram FSM state and encrypted drafts (storage.fsm.SQLAlchemyStorage).

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fsm_records",
        # HMAC of the aiogram StorageKey, never the Telegram ids themselves.
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(), nullable=True),
        # Fernet token of the JSON data.
        sa.Column("data", sa.LargeBinary(), nullable=True),
        # storage.base.UTCDateTime is a TypeDecorator over this type; migrations spell out
        # the plain type so they never depend on application code that may change.
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_fsm_records")),
    )
    op.create_index(op.f("ix_fsm_records_updated_at"), "fsm_records", ["updated_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_fsm_records_updated_at"), table_name="fsm_records")
    op.drop_table("fsm_records")
