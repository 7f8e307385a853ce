"""The bot's rate limits as rules: how many reports a day, wrong codes an hour, and when a
surge of new reports is worth an alert. Handlers ask these; storage.limits only counts marks.

The numbers come from the configuration's limits section, passed in as plain values.
"""

from __future__ import annotations

from datetime import timedelta

from storage import limits
from storage.repositories import Store

REPORT_WINDOW = timedelta(days=1)
CODE_WINDOW = timedelta(hours=1)
SURGE_WINDOW = timedelta(hours=1)


async def may_submit(store: Store, user_id: int, reports_per_day: int) -> bool:
    """Under the account's reports of the last day (a flood of reports waits a few hours)."""
    return await store.limits.count(limits.REPORT, user_id, REPORT_WINDOW) < reports_per_day


async def may_try_code(store: Store, user_id: int, attempts_per_hour: int) -> bool:
    """Under the account's wrong case codes of the last hour."""
    return await store.limits.count(limits.CODE, user_id, CODE_WINDOW) < attempts_per_hour


async def wrong_code(store: Store, user_id: int) -> None:
    """A wrong code counts against the account's attempts."""
    await store.limits.mark(limits.CODE, user_id)


async def surge_to_report(store: Store, surge_per_hour: int) -> int | None:
    """The count of new reports in the last hour when it exceeds the limit and the admins were
    not alerted in that hour (marked now: one alert an hour); None when nobody is to be told."""
    if await store.cases.count_since(SURGE_WINDOW) <= surge_per_hour:
        return None
    if await store.limits.count(limits.SURGE, 0, SURGE_WINDOW):
        return None
    await store.limits.mark(limits.SURGE, 0)
    return await store.cases.count_since(SURGE_WINDOW)
