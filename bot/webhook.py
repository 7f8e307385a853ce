"""Webhook mode: an aiohttp server behind a reverse proxy (for several instances at scale)."""
from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING

from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

if TYPE_CHECKING:
    from bot.app import App


async def run_webhook(app: App) -> None:
    tg = app.config.telegram
    web_app = web.Application()
    SimpleRequestHandler(dispatcher=app.dispatcher, bot=app.bot,
                         secret_token=tg.webhook_secret).register(web_app, path=tg.webhook_path)
    setup_application(web_app, app.dispatcher, bot=app.bot)
    await app.bot.set_webhook(tg.webhook_url, secret_token=tg.webhook_secret,
                              allowed_updates=app.dispatcher.resolve_used_update_types())
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
