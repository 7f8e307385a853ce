"""The Telegram-facing application: configuration, bot wiring and start-up."""

from bot.lazy_types import defer

defer()  # before anything imports aiogram: its types' schemas are built on first use (~100 MB)
