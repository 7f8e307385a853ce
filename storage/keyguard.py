"""The keys must be the ones the stored data was written with.

A key file lost in a restore used to be replaced silently by new keys: the bot started, and
every draft, every "My reports" and every coordinator's Open failed from then on. Now the
database keeps one check value (table key_check): a Fernet token of a fixed text and its
keyed hash. Start-up verifies it; a database that holds encrypted data but no check value
yet (written before this table existed) is checked against a stored token instead, and the
check value is written once the keys have proven right.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.base import utcnow
from storage.crypto import Crypto, InvalidToken
from storage.fsm import FsmRecord
from storage.models import Attachment, Case, KeyCheck

__all__ = ["KeysDoNotMatch", "holds_data", "verify_keys", "write_check"]

_CHECK = b"kua key check v1"


@dataclass(frozen=True)
class KeysDoNotMatch(Exception):
    """What does not match: "data_keys" (nothing decrypts) or "hmac_secret"."""

    part: str


async def holds_data(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """Whether anything in the database was written with some keys."""
    async with sessions() as session:
        for column in (KeyCheck.id, FsmRecord.key, Case.id, Attachment.id):
            if await session.scalar(select(column).limit(1)) is not None:
                return True
    return False


async def verify_keys(sessions: async_sessionmaker[AsyncSession], crypto: Crypto) -> None:
    """Raise KeysDoNotMatch unless ``crypto`` reads what is stored; record the check value."""
    async with sessions() as session:
        check = await session.get(KeyCheck, 1)
        if check is not None:
            try:
                readable = crypto.decrypt(check.token) == _CHECK
            except InvalidToken:
                readable = False
            if not readable:
                raise KeysDoNotMatch("data_keys")
            if check.digest != crypto.keyed_hash("key-check", _CHECK.decode()):
                raise KeysDoNotMatch("hmac_secret")
            return
        sample = await _some_token(session)
    if sample is not None:
        try:
            crypto.decrypt(sample)
        except InvalidToken:
            raise KeysDoNotMatch("data_keys") from None
    await write_check(sessions, crypto)


async def write_check(sessions: async_sessionmaker[AsyncSession], crypto: Crypto) -> None:
    """(Re)write the check value under the current first key (after a rotation too)."""
    async with sessions() as session, session.begin():
        await session.execute(delete(KeyCheck))
        session.add(
            KeyCheck(
                id=1,
                token=crypto.encrypt(_CHECK),
                digest=crypto.keyed_hash("key-check", _CHECK.decode()),
                updated_at=utcnow(),
            )
        )


async def _some_token(session: AsyncSession) -> bytes | None:
    for column in (FsmRecord.data, Case.private_enc, Attachment.name_enc, Attachment.content_enc):
        token = await session.scalar(select(column).where(column.is_not(None)).limit(1))
        if token is not None:
            return bytes(token)
    return None
