"""Webhook mode: an aiohttp server behind a reverse proxy (for several instances at scale)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from bot.config import TelegramConfig

log = logging.getLogger("kua.webhook")


class SafeRequestHandler(SimpleRequestHandler):
    """An update aiogram cannot parse is acknowledged and skipped (Telegram would otherwise
    send it again and again), logged by id only, never by content."""

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), bot):
            return web.Response(body="Unauthorized", status=401)
        try:
            raw = await request.json(loads=bot.session.json_loads)  # aiohttp keeps the body
        except ValueError:
            log.warning("webhook request skipped: not JSON")
            return web.json_response({})
        try:
            Update.model_validate(raw, context={"bot": bot})
        except Exception as exc:  # noqa: BLE001 - pydantic quotes the content: type only
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            log.warning("update %s skipped: it could not be parsed (%s)", update_id, type(exc).__name__)
            return web.json_response({})
        return await super().handle(request)

    __call__ = handle


async def run_webhook(bot: Bot, dispatcher: Dispatcher, tg: TelegramConfig) -> None:
    web_app = web.Application()
    # handle_in_background=False: Telegram gets its answer only after the update was handled
    # (and committed), so an update lost to a crash is delivered again.
    SafeRequestHandler(
        dispatcher=dispatcher,
        bot=bot,
        handle_in_background=False,
        secret_token=tg.webhook_secret.get_secret_value(),
    ).register(web_app, path=tg.webhook_path)
    setup_application(web_app, dispatcher, bot=bot)
    await bot.set_webhook(
        tg.webhook_url,
        secret_token=tg.webhook_secret.get_secret_value(),
        allowed_updates=dispatcher.resolve_used_update_types(),
    )
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, tg.listen_host, tg.listen_port)
    await site.start()
    # SIGTERM/SIGINT end the wait: serve() then lets the delivery in progress finish and
    # hands back the claimed items, as polling does (the default would kill the process).
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()  # until a signal, or cancelled
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        await runner.cleanup()
