"""Redis keys without Telegram ids: aiogram's default builder writes ``fsm:<chat>:<user>:lock``;
this one writes ``kua:<part>:<keyed hash>`` with the same secret the database's keys use."""

from __future__ import annotations

from typing import Literal

from aiogram.fsm.storage.base import KeyBuilder, StorageKey

from storage.crypto import Crypto

__all__ = ["HashedKeyBuilder"]


class HashedKeyBuilder(KeyBuilder):
    def __init__(self, crypto: Crypto, *, prefix: str = "kua") -> None:
        self._crypto = crypto
        self._prefix = prefix

    def build(self, key: StorageKey, part: Literal["data", "state", "lock"] | None = None) -> str:
        # Every field of the key takes part, so isolation is as fine-grained as aiogram's.
        raw = (
            f"{key.bot_id}:{key.chat_id}:{key.user_id}:{key.thread_id}:"
            f"{key.business_connection_id}:{key.destiny}"
        )
        digest = self._crypto.keyed_hash("redis", raw)[:40]
        return ":".join(p for p in (self._prefix, part, digest) if p)

    def chat_ref(self, chat: str | int) -> str:
        """A chat's part of a Redis key (the flood gate's windows)."""
        return self._crypto.keyed_hash("redis-chat", chat)[:40]
