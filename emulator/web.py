"""The demo's web page: what the emulator holds, shown in a browser, and a person acting as a user.

The page never talks to the bot. It reads the emulator's chats (`GET /api/state`, pushed again
over server-sent events whenever something changes) and makes the emulator's users act
(`POST /api/send`, `/api/press`, `/api/upload`, `/api/profile`): each action becomes the Update
real Telegram would send, so the bot sees exactly what it would see from a phone. Requests the
bot made that Telegram would reject are listed from `FakeTelegram.errors`.

Only the demo's own people can act, each only in the chats they belong to. The server listens on
127.0.0.1 only, and refuses other Host headers and cross-site POSTs, so a web page elsewhere
cannot drive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from PIL import Image, UnidentifiedImageError

from .actors import FakeGroup, FakeUser
from .html import utf16_len
from .models import FakeMessage
from .server import FakeTelegram

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Telegram app languages offered: the bot's three, and one it does not speak (falls back).
APP_LANGUAGES = ("kk", "ru", "en", "de")
TEXT_LIMIT = 4096  # what a Telegram app lets a user type into one message
CAPTION_LIMIT = 1024
UPLOAD_LIMIT = 50 * 1024 * 1024
TYPING_SECONDS = 5.0  # how long Telegram shows "typing..." after sendChatAction
IDLE_QUIET = 0.5  # seconds without a request before the bot counts as idle
IDLE_TIMEOUT = 30.0
_POLL_SECONDS = 0.1  # how often the page's state is checked for changes
_REFRESH_SECONDS = 2.0  # recompute anyway (typing indicators expire)
_HEARTBEAT_SECONDS = 15.0
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclass(frozen=True)
class Person:
    """Someone the page can be: a Telegram user of the emulator."""

    key: str  # used by the page: "reporter-a", "coordinator-1", ...
    label: str  # shown on the page
    user_id: int
    role: str  # "reporter", "coordinator" or "outsider"
    first_name: str
    language_code: str = "ru"


class ActionError(Exception):
    """An action the page asked for that a Telegram app would not allow; shown to the person."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class DemoWeb:
    """The aiohttp application serving the page and its small JSON API."""

    def __init__(
        self,
        fake: FakeTelegram,
        people: Iterable[Person],
        group: FakeGroup | None,
        *,
        bot_ready: Callable[[], bool] | None = None,
    ) -> None:
        self.fake = fake
        self.people = {person.key: person for person in people}
        self.group = group
        self.languages = {person.key: person.language_code for person in self.people.values()}
        self._is_ready = bot_ready or (lambda: bool(fake.calls("getUpdates")))
        self._ready = False
        self.action_errors: list[dict[str, Any]] = []  # actions refused, newest last
        self._actions = 0
        self._subscribers: set[asyncio.Queue[str | None]] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    # --- lifecycle --------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024, middlewares=[self._guard])
        app.router.add_get("/", self._index)
        app.router.add_get("/favicon.ico", self._no_icon)
        app.router.add_static("/static/", STATIC_DIR, show_index=False)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/api/events", self._events)
        app.router.add_get("/api/idle", self._idle)
        app.router.add_get("/api/file/{file_id}", self._file)
        app.router.add_post("/api/send", self._action(self._send))
        app.router.add_post("/api/press", self._action(self._press))
        app.router.add_post("/api/upload", self._action(self._upload))
        app.router.add_post("/api/profile", self._action(self._profile))
        return app

    async def start(self, port: int, host: str = "127.0.0.1") -> None:
        runner = web.AppRunner(self.app(), access_log=None, handler_cancellation=True)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        self._watcher = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        for queue in list(self._subscribers):
            queue.put_nowait(None)  # ends each event stream
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- requests: who may ask --------------------------------------------------------

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        allowed = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        if request.host not in allowed:  # DNS rebinding: another name pointing here
            return web.Response(status=421, text="This demo answers only on 127.0.0.1.")
        origin = request.headers.get("Origin")
        if request.method == "POST" and origin not in {f"http://{host}" for host in allowed}:
            return web.Response(status=403, text="Cross-site requests are refused.")
        response = await handler(request)
        response.headers.setdefault("Content-Security-Policy", _CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "index.html")

    async def _no_icon(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=204)

    # --- what the page shows -----------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Everything the page shows, as JSON-ready data."""
        people = []
        chats: dict[str, Any] = {}
        for person in self.people.values():
            in_group = self.group is not None and person.user_id in self.group.members
            people.append(
                {
                    "key": person.key,
                    "label": person.label,
                    "role": person.role,
                    "user_id": person.user_id,
                    "first_name": person.first_name,
                    "language_code": self.languages[person.key],
                    "in_group": in_group,
                    "commands": self._commands(self.languages[person.key]),
                    "started": person.user_id in self.fake.started,
                }
            )
            chats[str(person.user_id)] = self._chat(person.user_id, f"{person.label} — Kua")
        if self.group is not None:
            group = self._chat(self.group.chat_id, self.group.title)
            group["forum"] = self.group.is_forum
            group["topics"] = [
                {"id": t.message_thread_id, "name": t.name, "color": t.icon_color}
                for t in self.group.topics
                if not t.deleted
            ]
            chats[str(self.group.chat_id)] = group
        return {
            "seq": self.seq(),
            "ready": self._bot_ready(),
            "bot": {"name": self.fake.bot_user["first_name"], "username": self.fake.bot_username},
            "group_id": self.group.chat_id if self.group is not None else None,
            "people": people,
            "chats": chats,
            "languages": list(APP_LANGUAGES),
            "errors": [self._error(record) for record in self.fake.errors],
            "answers": self._answers(),
            "action_errors": self.action_errors[-20:],
        }

    def _commands(self, language: str) -> list[dict[str, str]]:
        """The command menu a private chat shows, resolved the way Telegram apps do."""
        private = {"type": "all_private_chats"}
        for scope, code in ((private, language), (private, ""), (None, language), (None, "")):
            commands = self.fake.commands(scope, code)
            if commands:
                return commands
        return []

    def _answers(self) -> list[dict[str, Any]]:
        """The bot's recent answers to button presses (shown as a toast or an alert)."""
        answered = [c for c in self.fake.callbacks.values() if c.answer is not None]
        return [
            {
                "id": c.id,
                "user_id": c.user_id,
                "chat_id": c.chat_id,
                "text": c.answer.text,
                "show_alert": c.answer.show_alert,
            }
            for c in answered[-20:]
            if c.answer is not None
        ]

    def _chat(self, chat_id: int, title: str) -> dict[str, Any]:
        messages = [self._message(m) for m in self.fake.transcript(chat_id) if not m.deleted]
        return {"id": chat_id, "title": title, "messages": messages, "typing": self._typing(chat_id)}

    def _message(self, message: FakeMessage) -> dict[str, Any]:
        sender = "bot" if message.from_bot else self._label(message.from_id)
        keyboard = (message.inline_keyboard or {}).get("inline_keyboard", [])
        buttons = [
            [{"text": b.get("text", ""), "callback": "callback_data" in b, "url": b.get("url")} for b in row]
            for row in keyboard
        ]
        item: dict[str, Any] = {
            "id": message.message_id,
            "from": sender,
            "from_bot": message.from_bot,
            "from_id": message.from_id,
            "date": message.date,
            "kind": message.kind,
            "thread": message.message_thread_id,
            "text": message.text,
            "caption": message.caption,
            "entities": message.entities,
            "buttons": buttons,
            "edited": message.edit_date is not None,
        }
        if message.file_id is not None:
            item["file"] = self._file_info(message)
        if message.reply_to is not None:
            quoted = message.reply_to.text or message.reply_to.caption or message.reply_to.kind
            item["reply_to"] = {"id": message.reply_to.message_id, "text": quoted[:80]}
        if message.kind in ("location", "contact", "sticker"):
            item["content"] = message.content
        if message.kind.startswith("forum_topic_"):
            change = message.content.get(message.kind, {})
            verb = "created" if message.kind == "forum_topic_created" else "changed"
            item["service"] = f"Topic {verb}" + (f": {change['name']}" if change.get("name") else "")
        return item

    def _file_info(self, message: FakeMessage) -> dict[str, Any]:
        stored = self.fake.files.get(message.file_id or "")
        name = stored.file_name if stored is not None else None
        return {
            "id": message.file_id,
            "name": name,
            "image": message.kind == "photo",
            "size": len(message.data or b""),
        }

    def _label(self, user_id: int) -> str:
        for person in self.people.values():
            if person.user_id == user_id:
                return person.label
        return str(user_id)

    def _typing(self, chat_id: int) -> bool:
        """Whether Telegram would show "typing..." now: a recent sendChatAction, no message since."""
        now = self.fake.now()
        for record in reversed(self.fake.requests):
            if now - record.time > TYPING_SECONDS:
                return False
            if record.chat_id != chat_id or not record.ok:
                continue
            if record.method == "sendChatAction":
                return True
            if record.method.startswith("send") or record.method == "copyMessage":
                return False
        return False

    @staticmethod
    def _error(record: Any) -> dict[str, Any]:
        return {
            "method": record.method,
            "status": record.status,
            "description": record.description,
            "summary": str(record),
            "time": record.time,
        }

    def _bot_ready(self) -> bool:
        """Whether the bot has started polling (it stays so: a restart is not shown)."""
        self._ready = self._ready or self._is_ready()
        return self._ready

    def seq(self) -> int:
        """Grows with every request the bot makes and every action here: a page showing a state
        with this ``seq`` or a higher one shows everything up to then."""
        return len(self.fake.requests) + self._actions

    async def _state(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.snapshot())

    async def _idle(self, request: web.Request) -> web.StreamResponse:
        """Answers once the bot has taken every update and gone quiet (for scripted walks
        through the demo, such as the browser test), with the ``seq`` the page must reach."""
        try:
            await self.fake.idle(quiet=IDLE_QUIET, timeout=IDLE_TIMEOUT)
        except TimeoutError as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=503)
        return web.json_response({"ok": True, "seq": self.seq()})

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: the whole state at once, then again after every change."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            await response.write(_event(json.dumps(self.snapshot(), ensure_ascii=False)))
            while True:
                try:
                    data = await asyncio.wait_for(queue.get(), _HEARTBEAT_SECONDS)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if data is None:
                    break
                while not queue.empty():  # only the newest state matters
                    newer = queue.get_nowait()
                    if newer is None:
                        return response
                    data = newer
                await response.write(_event(data))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._subscribers.discard(queue)
        return response

    async def _watch(self) -> None:
        """Push the state to every open page whenever it changes."""
        last_mark: tuple[Any, ...] | None = None
        last_sent = ""
        loop = asyncio.get_running_loop()
        refreshed = loop.time()
        while True:
            await asyncio.sleep(_POLL_SECONDS)
            if not self._subscribers:
                continue
            mark = self._change_mark()
            if mark == last_mark and loop.time() - refreshed < _REFRESH_SECONDS:
                continue
            last_mark, refreshed = mark, loop.time()
            data = json.dumps(self.snapshot(), ensure_ascii=False)
            if data != last_sent:
                last_sent = data
                for queue in self._subscribers:
                    queue.put_nowait(data)

    def _change_mark(self) -> tuple[Any, ...]:
        # Every change the bot makes is a request (and its answer); every change a person
        # makes is an action here.
        requests = self.fake.requests
        answered = sum(1 for r in requests[-50:] if r.response is not None)
        return len(requests), answered, self._actions, self._bot_ready()

    # --- what a person does -------------------------------------------------------------

    def _action(
        self, handler: Callable[[web.Request], Awaitable[dict[str, Any]]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def serve(request: web.Request) -> web.StreamResponse:
            try:
                result = await handler(request)
            except ActionError as error:
                self.action_errors.append({"time": self.fake.now(), "description": str(error)})
                self._actions += 1
                return web.json_response({"ok": False, "description": str(error)}, status=error.status)
            self._actions += 1
            return web.json_response({"ok": True, **result})

        return serve

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ActionError("The request is not JSON.") from None
        if not isinstance(body, dict):
            raise ActionError("The request is not a JSON object.")
        return body

    def _person(self, key: Any) -> Person:
        person = self.people.get(key) if isinstance(key, str) else None
        if person is None:
            raise ActionError("Nobody of that name is in this demo.")
        return person

    def _actor(self, person: Person, chat_id: Any) -> FakeUser:
        """The person acting in a chat they belong to."""
        if chat_id == person.user_id:
            user = self.fake.known_user(person.user_id)
            if user is None:  # registered by the demo
                raise ActionError("That person is not known.")
            return user
        if self.group is not None and chat_id == self.group.chat_id:
            if person.user_id not in self.group.members:
                raise ActionError(f"{person.label} is not a member of {self.group.title}.", 403)
            return self.group.users[person.user_id]
        raise ActionError(f"{person.label} cannot write in that chat.", 403)

    def _thread(self, actor: FakeUser, value: Any) -> int | None:
        if value is None or actor.is_private:
            return None
        if not isinstance(value, int):
            raise ActionError("The topic is not valid.")
        if self.group is None:
            raise ActionError("There is no group.")
        topic = self.group.find_topic(value)
        if topic is None or topic.deleted:
            raise ActionError("That topic was deleted.")
        return value

    async def _send(self, request: web.Request) -> dict[str, Any]:
        body = await self._json(request)
        person = self._person(body.get("person"))
        actor = self._actor(person, body.get("chat_id"))
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ActionError("Telegram does not send an empty message.")
        if utf16_len(text) > TEXT_LIMIT:
            raise ActionError(f"Telegram apps send at most {TEXT_LIMIT} characters in one message.")
        thread = self._thread(actor, body.get("thread"))
        reply_to = None
        if isinstance(body.get("reply_to"), int):
            reply_to = self.fake.find_message(actor.chat_id, body["reply_to"])
            if reply_to is None or reply_to.deleted:
                raise ActionError("The message to reply to was deleted.")
        message = await actor.send_text(text, message_thread_id=thread, reply_to=reply_to)
        return {"message_id": message.message_id}

    async def _press(self, request: web.Request) -> dict[str, Any]:
        body = await self._json(request)
        person = self._person(body.get("person"))
        actor = self._actor(person, body.get("chat_id"))
        message_id, row, col = body.get("message_id"), body.get("row"), body.get("col")
        if not (isinstance(message_id, int) and isinstance(row, int) and isinstance(col, int)):
            raise ActionError("Which button was pressed is not clear.")
        message = self.fake.find_message(actor.chat_id, message_id)
        if message is None or message.deleted:
            raise ActionError("That message was deleted: its buttons are gone.")
        keyboard = (message.inline_keyboard or {}).get("inline_keyboard", [])
        try:
            button = keyboard[row][col]
        except (IndexError, TypeError):
            raise ActionError("That button is not on the message any more.") from None
        if "callback_data" not in button:
            raise ActionError("This button opens a link; the demo does not follow links.")
        callback_id = await actor.press_data(button["callback_data"], message)
        return {"callback_id": callback_id}

    async def _upload(self, request: web.Request) -> dict[str, Any]:
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:
            raise ActionError("The file is too large for this demo (50 MB at most).", 413) from None
        person = self._person(form.get("person"))
        actor = self._actor(person, _int(form.get("chat_id")))
        thread = self._thread(actor, _int(form.get("thread")))
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            raise ActionError("No file was chosen.")
        data = upload.file.read()
        if not data:
            raise ActionError("The file is empty; Telegram does not send empty files.")
        caption = form.get("caption")
        caption = caption if isinstance(caption, str) and caption.strip() else None
        if caption is not None and utf16_len(caption) > CAPTION_LIMIT:
            raise ActionError(f"Telegram apps send captions of at most {CAPTION_LIMIT} characters.")
        if form.get("as") == "photo":
            if not _is_image(data):
                raise ActionError("This file is not a picture; send it as a file instead.")
            message = await actor.send_photo(data, caption, message_thread_id=thread)
        else:
            name = (upload.filename or "file").replace("/", "_").replace("\\", "_")[:255]
            mime = upload.content_type or "application/octet-stream"
            message = await actor.send_document(data, name, mime, caption, message_thread_id=thread)
        return {"message_id": message.message_id}

    async def _profile(self, request: web.Request) -> dict[str, Any]:
        """The language of the person's Telegram app (what the bot sees as language_code)."""
        body = await self._json(request)
        person = self._person(body.get("person"))
        code = body.get("language_code")
        if code not in APP_LANGUAGES:
            raise ActionError("That language is not offered in this demo.")
        self.languages[person.key] = code
        self.fake.user(person.user_id, person.first_name, language_code=code)
        return {"language_code": code}

    async def _file(self, request: web.Request) -> web.StreamResponse:
        stored = self.fake.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        if stored.kind == "photo" and _is_image(stored.data):
            return web.Response(body=stored.data, content_type=_image_type(stored.data))
        name = (stored.file_name or f"{stored.kind}.bin").replace('"', "")
        return web.Response(
            body=stored.data,
            content_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


def _event(data: str) -> bytes:
    lines = "".join(f"data: {line}\n" for line in data.split("\n"))
    return f"event: state\n{lines}\n".encode()


def _int(value: Any) -> int | None:
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value)
    return None


def _is_image(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False
    return True


def _image_type(data: bytes) -> str:
    with Image.open(io.BytesIO(data)) as image:
        kind = (image.format or "jpeg").lower()
    return {"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp"}.get(
        kind, "application/octet-stream"
    )
