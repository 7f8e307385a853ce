"""gettext catalogs and the per-user language, kept in the database (not in the FSM, which a
cancelled draft clears)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from domain.values import LOCALES, telegram_locale

# The data key bot.exactly_once fills with the stored locale (absent: not read yet).
PRELOADED_LOCALE = "kua_stored_locale"

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"


def make_i18n(default_locale: str) -> I18n:
    i18n = I18n(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)
    missing = [loc for loc in LOCALES if loc not in i18n.available_locales]
    if missing:
        raise RuntimeError(
            f"compiled catalogs missing for {', '.join(missing)}: run scripts/compile-catalogs.sh"
        )
    return i18n


class StoredLocaleMiddleware(I18nMiddleware):
    """Stored choice first, then Telegram's language_code, then the configured default."""

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        if user is None:
            return self.i18n.default_locale
        if PRELOADED_LOCALE in data:  # read with the FSM record, in the update's one read
            stored = data[PRELOADED_LOCALE]
        else:
            stored = await data["store"].accounts.get_locale(user.id)
        data["has_locale"] = stored is not None
        return stored or telegram_locale(user) or self.i18n.default_locale
