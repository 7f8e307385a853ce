"""Every stored encrypted value re-encrypted under the first data key, and checked.

After `rotate-keys` puts a new key first, older records are still under the old keys, so an old
key that may have been copied would still open them. Re-encrypting rewrites each value under the
new key (MultiFernet.rotate: decrypt with any key, encrypt with the first); the check then reads
every value with the first key alone, and only then may the old keys be retired.

Encrypted columns are the ``*_enc`` binary columns of every table, plus the two named in
``OTHER_ENCRYPTED`` (tests/test_reencrypt.py fails when a binary column is neither). Work goes
in batches, each its own short transaction, so an interrupted run leaves every value readable
(with all keys) and can simply be run again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.fernet import InvalidToken
from sqlalchemy import Column, LargeBinary, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.crypto import Crypto

ENCRYPTED_SUFFIX = "_enc"
# Encrypted binary columns not named *_enc: the FSM record's data and the key check's token.
OTHER_ENCRYPTED = frozenset({("fsm_records", "data"), ("key_check", "token")})
BATCH = 500
FILE_BATCH = 8  # rows of file contents at once (each up to the file size limit)


@dataclass
class Outcome:
    """Per "table.column": values rewritten (or, for a check, read), and those that failed."""

    done: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.done.values())


def encrypted_columns() -> list[Column[bytes]]:
    """Every encrypted column of the schema (all tables registered: storage.db.load_models)."""
    from storage.db import load_models

    columns = []
    for table in load_models().sorted_tables:
        for column in table.columns:
            named = column.name.endswith(ENCRYPTED_SUFFIX) or (table.name, column.name) in OTHER_ENCRYPTED
            if named and isinstance(column.type, LargeBinary):
                columns.append(column)
    return columns


def _key_of(column: Column[bytes]) -> Column[object]:
    keys = list(column.table.primary_key.columns)
    if len(keys) != 1:
        raise ValueError(f"{column.table.name} needs a one-column primary key to be re-encrypted")
    return keys[0]


async def _each_batch(
    engine: AsyncEngine,
    column: Column[bytes],
    work: Callable[[list[tuple[object, bytes]]], list[tuple[object, bytes]]],
) -> None:
    """Walk `column` in primary-key order; `work` maps a batch to the rows to write back."""
    key = _key_of(column)
    size = FILE_BATCH if column.name == "content_enc" else BATCH
    last: object | None = None
    writer = (
        update(column.table)
        .where(key == bindparam("_key"))
        .values({column.name: bindparam("_value")})
        .execution_options(synchronize_session=False)
    )
    while True:
        query = select(key, column).where(column.is_not(None)).order_by(key).limit(size)
        if last is not None:
            query = query.where(key > last)
        async with engine.begin() as conn:  # one short transaction per batch
            rows = [(k, bytes(v)) for k, v in (await conn.execute(query)).all()]
            if not rows:
                return
            changed = work(rows)
            if changed:
                await conn.execute(writer, [{"_key": k, "_value": v} for k, v in changed])
        last = rows[-1][0]


async def _each_value(engine: AsyncEngine, opened: Callable[[bytes], bytes], *, write: bool) -> Outcome:
    """`opened(token)` for every encrypted value, counted per column (InvalidToken: failed);
    with `write`, its result replaces the value (a failed one is left as it is)."""
    outcome = Outcome()
    for column in encrypted_columns():
        counts = {"done": 0, "failed": 0}

        def work(
            rows: list[tuple[object, bytes]], counts: dict[str, int] = counts
        ) -> list[tuple[object, bytes]]:
            out = []
            for key, token in rows:
                try:
                    out.append((key, opened(token)))
                    counts["done"] += 1
                except InvalidToken:
                    counts["failed"] += 1
            return out if write else []

        await _each_batch(engine, column, work)
        name = f"{column.table.name}.{column.name}"
        outcome.done[name], outcome.failed[name] = counts["done"], counts["failed"]
    return outcome


async def reencrypt(engine: AsyncEngine, crypto: Crypto) -> Outcome:
    """Rewrite every encrypted value under `crypto`'s first key. A value no key opens is left
    as it is and counted in ``failed`` (it was unreadable before too)."""
    return await _each_value(engine, crypto.rotate, write=True)


async def check_first_key(engine: AsyncEngine, crypto: Crypto) -> Outcome:
    """Read every encrypted value with `crypto`'s first key alone (nothing is written)."""
    return await _each_value(engine, crypto.first_key_only().decrypt, write=False)
