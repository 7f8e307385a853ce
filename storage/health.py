"""Read-only probes for `python -m bot check`: nothing here writes, creates or migrates."""

from __future__ import annotations

from sqlalchemy import LargeBinary, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.base import Base

__all__ = ["encrypted_sample"]

# Encrypted columns are named *_enc; file contents are the largest, so they are read last.
_SUFFIX = "_enc"
_LAST = "content_enc"


async def encrypted_sample(engine: AsyncEngine) -> tuple[str, bytes] | None:
    """One stored Fernet token as ``("table.column", token)``, or None when nothing is encrypted yet.

    Every ``*_enc`` column of every model is a candidate, so a table added later is covered
    without touching this function. Expects a database at the latest revision.
    """
    # storage.models, not db.load_models(): the FSM table holds no *_enc column, and importing
    # it would pull in aiogram (seconds of CPU for a health check).
    import storage.models  # noqa: F401 - registers the tables on Base.metadata

    columns = [
        column
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.name.endswith(_SUFFIX) and isinstance(column.type, LargeBinary)
    ]
    columns.sort(key=lambda c: (c.name == _LAST, c.table.name, c.name))
    async with engine.connect() as conn:
        for column in columns:
            token = await conn.scalar(select(column).where(column.is_not(None)).limit(1))
            if token:
                return f"{column.table.name}.{column.name}", bytes(token)
    return None
