"""The Telegram-facing application: configuration, bot wiring and start-up."""
