"""One router per feature, collected in the order they must match."""
from __future__ import annotations

from aiogram import F, Router


def get_routers() -> list[Router]:
    from handlers import errors, fallback, followup, report, start

    # Reporters talk to the bot in private; groups belong to the coordinators (another router).
    private = Router(name="private")
    private.message.filter(F.chat.type == "private")
    private.callback_query.filter(F.message.chat.type == "private")
    private.include_routers(start.make_router(), report.make_router(), followup.make_router(),
                            fallback.make_router())
    return [errors.make_router(), private]
