"""Webhook mode: Telegram gets its answer only after the update was handled (so a crash makes
Telegram deliver it again), and an update aiogram cannot parse is acknowledged and skipped."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.config import load_config
from bot.webhook import SafeRequestHandler
from storage.db import upgrade_to_head
from tests.mocked_bot import MockedSession, use_mocked_session

SECRET = "s" * 32


async def test_the_webhook_answers_after_handling_and_skips_junk(tmp_path: Path) -> None:
    config = load_config(
        environ={
            "KUA_TELEGRAM__TOKEN": "123456:TEST-token",
            "KUA_TELEGRAM__API_BASE": "http://127.0.0.1:9",
            "KUA_APP__DATA_DIR": str(tmp_path / "data"),
        },
        cwd=tmp_path,
    )
    await upgrade_to_head(config.database.url)
    app = await build_app(config)
    session = use_mocked_session(app.bot, MockedSession())
    web_app = web.Application()
    SafeRequestHandler(
        dispatcher=app.dispatcher, bot=app.bot, handle_in_background=False, secret_token=SECRET
    ).register(web_app, path="/hook")
    client = TestClient(TestServer(web_app))
    await client.start_server()
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    try:
        start = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 1,
                "text": "/start",
                "chat": {"id": 5005, "type": "private"},
                "from": {"id": 5005, "is_bot": False, "first_name": "U"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        response = await client.post("/hook", json=start, headers=headers)
        assert response.status == 200
        assert session.counts.get("sendMessage", 0) >= 1  # handled before the answer
        for junk in ({"update_id": 2, "message": {"text": 5}}, ["nonsense"]):
            response = await client.post("/hook", json=junk, headers=headers)
            assert response.status == 200  # acknowledged: Telegram will not resend it forever
        response = await client.post("/hook", data=b"{not json", headers=headers)
        assert response.status == 200
        response = await client.post("/hook", json=start, headers={})
        assert response.status == 401
    finally:
        await client.close()
        await app.close()
