"""One router per feature, collected in the order they must match."""

from __future__ import annotations

from aiogram import F, Router


def get_routers() -> list[Router]:
    from handlers import (
        advocacy,
        coordinator,
        errors,
        evidence,
        fallback,
        followup,
        loose_words,
        privacy,
        report,
        rights,
        start,
        stats,
    )

    # Reporters talk to the bot in private; groups belong to the coordinators (another router).
    private = Router(name="private")
    private.message.filter(F.chat.type == "private")
    private.callback_query.filter(F.message.chat.type == "private")
    # rights before report: /rights works mid-report and leaves the report as it is.
    # privacy before report too: /erase and /forget work mid-report.
    private.include_routers(
        start.make_router(),
        rights.make_router(),
        privacy.make_router(),
        report.make_router(),
        # loose words before follow-up: its catch-all would take them first
        loose_words.make_router(),
        followup.make_router(),
        evidence.make_router(back_to_case=followup.show_case),
        fallback.make_router(),
    )
    # Coordinators also use the bot in private: their router (role-checked on every update)
    # comes first, and whatever it does not handle falls through to the reporter's handlers.
    # Statistics, exports and case sheets: staff only, each router filters its own updates.
    return [
        errors.make_router(),
        coordinator.make_router(),
        stats.make_router(),
        advocacy.make_router(),
        private,
    ]
