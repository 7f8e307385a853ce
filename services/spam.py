"""Spam stays out: a reporter link whose case was closed as spam cannot submit for a while.

The block is stored under a keyed hash of the reporter link (storage.casework.spam_key), set
when a coordinator closes a case as spam and lifted when the case is reopened. The sender is
told nothing about it: the report flow answers with the same neutral line a busy queue would
give (handlers/report/flow.py, BLOCKED_ANSWER).
"""

from __future__ import annotations

from storage.repositories import Store


async def is_blocked(store: Store, user_id: int) -> bool:
    """May this account submit? False while a spam block on its reporter link runs."""
    return await store.casework.spam_blocked(store.cases.reporter_key(user_id))
