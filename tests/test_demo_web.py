"""The demo's web layer and launcher without a browser: what the page is told, what a person may
do through it, and that the demo keeps to 127.0.0.1 and to its temporary directory.

The "bot" here is the test calling the emulator's Bot API over HTTP, as the real bot would.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image

from bot.config import load_config
from emulator import FakeTelegram
from emulator.demo import COORDINATORS, GROUP_ID, ON_CALL, bot_environment, demo_config
from emulator.web import DemoWeb, Person

ROOT = Path(__file__).resolve().parent.parent
REPORTER = Person("reporter-a", "Reporter A", 5001, "reporter", "Aru")
OTHER = Person("reporter-b", "Reporter B", 5002, "reporter", "Bota")
COORDINATOR = Person("coordinator-1", "Coordinator 1", 6001, "coordinator", "Dana")
GROUP = -1005550000001


class Page:
    """The demo page's side of the HTTP API, as the browser uses it."""

    def __init__(self, fake: FakeTelegram, web: DemoWeb, http: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.web = web
        self.http = http
        self.url = f"http://127.0.0.1:{web.port}"
        self.origin = {"Origin": self.url}

    async def state(self) -> dict[str, Any]:
        async with self.http.get(self.url + "/api/state") as response:
            assert response.status == 200
            return dict(await response.json())

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        async with self.http.post(self.url + path, json=body, headers=self.origin) as response:
            return response.status, dict(await response.json())

    async def upload(
        self, person: str, chat_id: int, data: bytes, name: str, kind: str
    ) -> tuple[int, dict[str, Any]]:
        form = aiohttp.FormData()
        form.add_field("person", person)
        form.add_field("chat_id", str(chat_id))
        form.add_field("as", kind)
        form.add_field("file", data, filename=name, content_type="application/octet-stream")
        async with self.http.post(self.url + "/api/upload", data=form, headers=self.origin) as response:
            return response.status, dict(await response.json())

    async def bot(self, method: str, **params: Any) -> dict[str, Any]:
        """A Bot API call, as the bot makes it."""
        async with self.http.post(
            f"{self.fake.base_url}/bot{self.fake.token}/{method}", json=params
        ) as response:
            return dict(await response.json())

    def chat(self, state: dict[str, Any], chat_id: int) -> list[dict[str, Any]]:
        return list(state["chats"][str(chat_id)]["messages"])


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    async with FakeTelegram() as fake:
        for person in (REPORTER, OTHER, COORDINATOR):
            fake.user(person.user_id, person.first_name, started=True)
        group = fake.group(GROUP, "Coordinators", is_forum=True, members={COORDINATOR.user_id: "member"})
        web = DemoWeb(fake, (REPORTER, OTHER, COORDINATOR), group)
        await web.start(0)
        try:
            async with aiohttp.ClientSession() as http:
                yield Page(fake, web, http)
        finally:
            await web.stop()


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def updates(fake: FakeTelegram) -> list[dict[str, Any]]:
    return fake.updates.untaken()


# --- what the page is shown --------------------------------------------------------------------


async def test_the_page_shows_what_the_bot_sent_with_edits_and_deletions(page: Page) -> None:
    first = await page.bot(
        "sendMessage", chat_id=REPORTER.user_id, text="<b>Hello</b> & welcome", parse_mode="HTML"
    )
    second = await page.bot("sendMessage", chat_id=REPORTER.user_id, text="to be deleted")
    await page.bot(
        "editMessageText",
        chat_id=REPORTER.user_id,
        message_id=first["result"]["message_id"],
        text="<i>Edited</i> &lt;script&gt;",
        parse_mode="HTML",
    )
    await page.bot("deleteMessage", chat_id=REPORTER.user_id, message_id=second["result"]["message_id"])

    [shown] = page.chat(await page.state(), REPORTER.user_id)
    # The page gets plain text and Telegram's entities, never HTML to insert.
    assert shown["text"] == "Edited <script>"
    assert shown["entities"] == [{"type": "italic", "offset": 0, "length": 6}]
    assert shown["edited"] and shown["from_bot"]


async def test_the_page_lists_what_telegram_would_reject(page: Page) -> None:
    refused = await page.bot("sendMessage", chat_id=REPORTER.user_id, text="x" * 4097)
    assert not refused["ok"]
    state = await page.state()
    [error] = state["errors"]
    assert error["method"] == "sendMessage" and error["status"] == 400
    assert "message is too long" in error["description"]


async def test_forum_topics_and_the_bots_answers_to_presses_are_shown(page: Page) -> None:
    topic = await page.bot("createForumTopic", chat_id=GROUP, name="#1 · Case")
    thread = topic["result"]["message_thread_id"]
    await page.bot(
        "sendMessage",
        chat_id=GROUP,
        message_thread_id=thread,
        text="card",
        reply_markup={"inline_keyboard": [[{"text": "Take", "callback_data": "take"}]]},
    )
    state = await page.state()
    assert [t["name"] for t in state["chats"][str(GROUP)]["topics"]] == ["#1 · Case"]
    card = page.chat(state, GROUP)[-1]
    assert card["thread"] == thread and card["buttons"] == [[{"text": "Take", "callback": True, "url": None}]]
    status, pressed = await page.post(
        "/api/press",
        {"person": COORDINATOR.key, "chat_id": GROUP, "message_id": card["id"], "row": 0, "col": 0},
    )
    assert status == 200
    await page.bot("answerCallbackQuery", callback_query_id=pressed["callback_id"], text="Taken")
    [answer] = (await page.state())["answers"]
    assert answer == {
        "id": pressed["callback_id"],
        "user_id": COORDINATOR.user_id,
        "chat_id": GROUP,
        "text": "Taken",
        "show_alert": False,
    }


# --- what a person may do ----------------------------------------------------------------------


async def test_typing_and_pressing_become_the_updates_telegram_would_send(page: Page) -> None:
    sent = await page.bot(
        "sendMessage",
        chat_id=REPORTER.user_id,
        text="Choose",
        reply_markup={
            "inline_keyboard": [
                [{"text": "A", "callback_data": "pick:a"}, {"text": "Site", "url": "https://example.org/"}]
            ]
        },
    )
    message_id = sent["result"]["message_id"]
    status, _ = await page.post(
        "/api/send", {"person": REPORTER.key, "chat_id": REPORTER.user_id, "text": "/start"}
    )
    assert status == 200
    status, _ = await page.post(
        "/api/press",
        {"person": REPORTER.key, "chat_id": REPORTER.user_id, "message_id": message_id, "row": 0, "col": 0},
    )
    assert status == 200
    text, press = updates(page.fake)
    assert text["message"]["text"] == "/start"
    assert text["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert press["callback_query"]["data"] == "pick:a"
    assert press["callback_query"]["from"]["id"] == REPORTER.user_id

    status, refused = await page.post(
        "/api/press",
        {"person": REPORTER.key, "chat_id": REPORTER.user_id, "message_id": message_id, "row": 0, "col": 1},
    )
    assert status == 400 and "link" in refused["description"]
    assert len(updates(page.fake)) == 2


async def test_a_person_acts_only_in_their_own_chats(page: Page) -> None:
    attempts = [
        {"person": REPORTER.key, "chat_id": GROUP, "text": "hi"},  # not a member
        {"person": REPORTER.key, "chat_id": OTHER.user_id, "text": "hi"},  # someone else's chat
        {"person": "nobody", "chat_id": REPORTER.user_id, "text": "hi"},
        {"person": REPORTER.key, "chat_id": REPORTER.user_id, "text": "   "},
        {"person": REPORTER.key, "chat_id": REPORTER.user_id, "text": "x" * 4097},
    ]
    for body in attempts:
        status, answer = await page.post("/api/send", body)
        assert status in (400, 403) and not answer["ok"], body
    assert updates(page.fake) == []
    state = await page.state()
    assert len(state["action_errors"]) == len(attempts)  # each one shown on the page

    status, _ = await page.post(
        "/api/send", {"person": COORDINATOR.key, "chat_id": GROUP, "text": "in the group"}
    )
    assert status == 200
    [update] = updates(page.fake)
    assert update["message"]["chat"]["id"] == GROUP


async def test_photos_and_documents_from_the_computer(page: Page) -> None:
    status, refused = await page.upload(
        REPORTER.key, REPORTER.user_id, b"%PDF-1.4 not a picture", "scan.pdf", "photo"
    )
    assert status == 400 and "not a picture" in refused["description"]
    assert (await page.upload(REPORTER.key, REPORTER.user_id, jpeg(), "bruise.jpg", "photo"))[0] == 200
    assert (await page.upload(REPORTER.key, REPORTER.user_id, b"%PDF-1.4 x", "scan.pdf", "document"))[
        0
    ] == 200
    photo, document = updates(page.fake)
    assert photo["message"]["photo"][-1]["width"] == 32
    assert document["message"]["document"]["file_name"] == "scan.pdf"

    shown = page.chat(await page.state(), REPORTER.user_id)
    async with page.http.get(f"{page.url}/api/file/{shown[0]['file']['id']}") as response:
        assert response.content_type == "image/jpeg" and await response.read() == jpeg_of(page, 0)
    async with page.http.get(f"{page.url}/api/file/{shown[1]['file']['id']}") as response:
        assert response.content_type == "application/octet-stream"  # downloaded, never rendered
        assert response.headers["Content-Disposition"].startswith("attachment")


def jpeg_of(page: Page, index: int) -> bytes:
    message = page.fake.transcript(REPORTER.user_id)[index]
    assert message.data is not None
    return message.data


async def test_the_app_language_is_what_the_bot_sees_next(page: Page) -> None:
    status, _ = await page.post("/api/profile", {"person": REPORTER.key, "language_code": "kk"})
    assert status == 200
    await page.post("/api/send", {"person": REPORTER.key, "chat_id": REPORTER.user_id, "text": "/start"})
    [update] = updates(page.fake)
    assert update["message"]["from"]["language_code"] == "kk"
    status, _ = await page.post("/api/profile", {"person": REPORTER.key, "language_code": "xx"})
    assert status == 400


async def test_other_sites_and_other_host_names_are_refused(page: Page) -> None:
    body = {"person": REPORTER.key, "chat_id": REPORTER.user_id, "text": "forged"}
    async with page.http.post(
        page.url + "/api/send", json=body, headers={"Origin": "http://evil.example"}
    ) as response:
        assert response.status == 403
    async with page.http.post(page.url + "/api/send", json=body) as response:
        assert response.status == 403  # no Origin: not the page's own script
    async with page.http.get(page.url + "/api/state", headers={"Host": "rebound.example"}) as response:
        assert response.status == 421
    async with page.http.get(page.url + "/") as response:
        assert response.status == 200
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "Nothing leaves this computer" in await response.text()
    assert updates(page.fake) == []


async def test_the_event_stream_pushes_the_state_after_each_change(page: Page) -> None:
    async with page.http.get(page.url + "/api/events") as response:
        first = await next_event(response)
        assert page.chat(first, REPORTER.user_id) == []
        await page.bot("sendMessage", chat_id=REPORTER.user_id, text="news")
        second = await next_event(response)
        while not page.chat(second, REPORTER.user_id):  # an intermediate state may come first
            second = await next_event(response)
        assert page.chat(second, REPORTER.user_id)[0]["text"] == "news"
        assert second["seq"] > first["seq"]


async def next_event(response: aiohttp.ClientResponse) -> dict[str, Any]:
    data: list[str] = []
    async with asyncio.timeout(10):
        while True:
            line = (await response.content.readline()).decode().rstrip("\n")
            if line.startswith("data: "):
                data.append(line[6:])
            elif line == "" and data:
                return dict(json.loads("\n".join(data)))


# --- the launcher --------------------------------------------------------------------------------


def test_the_demo_config_is_a_valid_config_of_a_forum_group_with_two_coordinators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.toml").write_text(demo_config(tmp_path / "data"), encoding="utf-8")
    monkeypatch.setenv("KUA_TELEGRAM__TOKEN", "123:operator-real-token")
    monkeypatch.setenv("KUA_DATABASE__URL", "postgresql://operator@db/production")
    env = bot_environment(tmp_path, "http://127.0.0.1:1")
    assert not [k for k in env if k.startswith("KUA_") and k not in ("KUA_CONFIG", "KUA_TELEGRAM__API_BASE")]
    config = load_config(environ=env, cwd=tmp_path)
    assert config.telegram.api_base == "http://127.0.0.1:1"
    assert config.coordination.chat_id == GROUP_ID
    assert list(config.coordination.coordinators) == COORDINATORS and len(COORDINATORS) == 2
    assert list(config.coordination.on_call) == ON_CALL
    assert config.database.url.startswith("sqlite") and str(tmp_path) in config.database.url
    assert Path(config.data_dir).is_relative_to(tmp_path)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _demo(port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUA_")}
    env["KUA_DEMO_PORT"] = str(port)
    return subprocess.Popen(
        [sys.executable, "-m", "emulator.demo"],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_a_taken_port_stops_the_demo_with_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        process = _demo(busy.getsockname()[1])
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "set KUA_DEMO_PORT to a free port" in output and "Traceback" not in output


@pytest.mark.e2e
def test_stopping_the_demo_stops_the_bot_and_removes_its_data() -> None:
    process = _demo(_free_port())
    assert process.stdout is not None
    workdir = None
    for line in process.stdout:
        found = re.search(r"Data: (\S+) \(removed on exit\)", line)
        if found:
            workdir = Path(found[1])
            break
    assert workdir is not None and (workdir / "config.toml").exists()
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    assert len(children) == 1  # the bot
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    assert not workdir.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(int(children[0]), 0)
