"""FakeTelegram: the fake Bot API served over real HTTP, plus test-side controls."""

from __future__ import annotations

import asyncio
import math
import random
import reprlib
import socket
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from .errors import ApiError
from .methods import BotApi, Handler
from .models import RecordedRequest
from .updates import Notifier
from .validation import Params, Upload, decode_params
from .world import World

# Room for a 50 MB upload plus the rest of the form.
_MAX_REQUEST_SIZE = 51 * 1024 * 1024
_NOT_FOUND = {"ok": False, "error_code": 404, "description": "Not Found"}


@dataclass
class _Fault:
    """A failure planned by the test for the next call(s) of one method."""

    drop: bool  # close the connection without answering
    error: ApiError | None = None


class FakeTelegram(World):
    """A fake Telegram Bot API server for end-to-end tests.

    Point aiogram at ``base_url`` (``TelegramAPIServer.from_base``), play users
    with ``user()``/``group()``, synchronise with ``await idle()``, then assert on
    ``transcript()``, ``requests`` and ``errors``.
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",  # noqa: S107 - the emulator's, not a secret
        bot_id: int = 123456,
        bot_username: str = "kua_test_bot",
    ) -> None:
        super().__init__(token, bot_id, bot_username)
        self.requests: list[RecordedRequest] = []  # every API call, in arrival order
        self.errors: list[RecordedRequest] = []  # calls rejected for breaking Telegram's rules
        self.served: list[bytes] = []  # every file body the bot downloaded, in order
        handlers: dict[str, Handler] = {
            **BotApi(self).handlers(),
            "getUpdates": self._get_updates,
            "getMe": self._get_me,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "logOut": self._ok,
            "close": self._ok,
        }
        self._handlers = {name.lower(): (name, handler) for name, handler in handlers.items()}
        self._faults: dict[str, list[_Fault]] = {}
        # Flood control as Telegram does it: after a 429 for a chat (or for a request without
        # one: every chat), whatever arrives inside retry_after is refused again and counted.
        self._flood_until: dict[str, float] = {}
        self.flood_violations: list[RecordedRequest] = []
        self._storm: tuple[float, float, random.Random, tuple[int, int]] | None = None
        self.storm_faults = 0
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        # For idle(): requests being served and when the bot last did something.
        self._in_flight = 0
        self._last_activity = 0.0
        self._activity = Notifier()

    # --- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=_MAX_REQUEST_SIZE)
        app.router.add_route("*", "/bot{token}/{method}", self._serve_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._serve_file)
        # handler_cancellation: a client that hangs up (e.g. a stopping bot
        # mid-getUpdates) cancels its handler instead of leaving it waiting.
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(runner, sock).start()
        self._runner, self._port = runner, sock.getsockname()[1]
        self.updates.open()

    async def stop(self) -> None:
        """Answer pending getUpdates with [] and shut the server down."""
        self.updates.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = self._port = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://127.0.0.1:{self._port}"

    # --- test controls ------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail; with ``retry_after``, as 429 flood control."""
        if retry_after is not None:
            status = 429
            if description == "Internal Server Error":
                description = f"Too Many Requests: retry after {retry_after}"
        error = ApiError(status, description, rule_violation=False, retry_after=retry_after)
        self._plan(method, _Fault(drop=False, error=error), times)

    def drop_next(self, method: str, times: int = 1) -> None:
        """Close the connection of the next ``times`` calls of ``method`` without answering."""
        self._plan(method, _Fault(drop=True), times)

    def storm(
        self, *, private: float, group: float, seed: int = 0, retry_after: tuple[int, int] = (1, 2)
    ) -> None:
        """From now on, fail a share of the requests to private chats / groups (and channels)
        at random: a 429 with retry_after in the given range, a 5xx, or a dropped connection.
        ``storm(private=0, group=0)`` calms it."""
        self._storm = (private, group, random.Random(seed), retry_after)  # noqa: S311 - seeded for repeatable tests, not secret

    def _storm_fault(self, name: str, chat_id: Any) -> _Fault | None:
        if self._storm is None or name in ("getUpdates", "getMe", "getFile") or chat_id is None:
            return None
        private, group, rng, (low, high) = self._storm
        try:
            is_group = int(chat_id) < 0
        except (TypeError, ValueError):
            is_group = True
        if rng.random() >= (group if is_group else private):
            return None
        self.storm_faults += 1
        kind = rng.choice(("429", "5xx", "drop"))
        if kind == "drop":
            return _Fault(drop=True)
        if kind == "5xx":
            return _Fault(
                drop=False,
                error=ApiError(rng.choice((500, 502)), "Internal Server Error", rule_violation=False),
            )
        wait = rng.randint(low, high)
        return _Fault(
            drop=False,
            error=ApiError(
                429, f"Too Many Requests: retry after {wait}", rule_violation=False, retry_after=wait
            ),
        )

    def _flood_window(self, name: str, chat_id: Any) -> float:
        """Seconds left in the flood-control window this request falls into (0: none)."""
        if name == "getUpdates":
            return 0.0
        now = time.monotonic()
        keys = ["*"] if chat_id is None else ["*", str(chat_id)]
        return max((self._flood_until.get(key, 0.0) - now for key in keys), default=0.0)

    def _flooded(self, chat_id: Any, retry_after: int) -> None:
        key = "*" if chat_id is None else str(chat_id)
        self._flood_until[key] = max(self._flood_until.get(key, 0.0), time.monotonic() + retry_after)

    def end_flood_windows(self) -> None:
        """As if every open retry_after had passed (for tests that call the API directly and
        would otherwise have to sleep through the window)."""
        self._flood_until.clear()

    def _plan(self, method: str, fault: _Fault, times: int) -> None:
        if method.lower() not in self._handlers:
            raise ValueError(f"unknown method {method!r}")
        self._faults.setdefault(method.lower(), []).extend([fault] * times)

    def calls(self, method: str) -> list[RecordedRequest]:
        """The recorded calls of one method (case-insensitive)."""
        return [r for r in self.requests if r.method.lower() == method.lower()]

    def assert_no_errors(self) -> None:
        """Fail if the bot made any request that Telegram would have rejected."""
        if self.errors:
            lines = "\n".join(f"  - {r}" for r in self.errors)
            raise AssertionError(f"{len(self.errors)} request(s) Telegram would reject:\n{lines}")

    async def idle(self, quiet: float = 0.15, timeout: float = 10) -> None:
        """Wait until the bot has taken every update and finished reacting.

        Done when all queued updates were handed out by getUpdates, no request
        (other than getUpdates) is being served, and none arrived during the
        last ``quiet`` seconds - counted from the later of the last activity
        and the moment idle() was called.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + timeout
        while True:
            now = loop.time()
            quiet_left = max(self._last_activity, started) + quiet - now
            busy = not self.updates.all_taken() or self._in_flight > 0
            if not busy and quiet_left <= 0:
                return
            if now >= deadline:
                raise TimeoutError(self._busy_report(timeout))
            await self._activity.wait(min(deadline - now, quiet if busy else quiet_left))

    def bot_polling(self) -> bool:
        """Whether the bot is waiting in a long poll that confirmed every update, with no other
        request open.

        For a bot that asks for more updates only once it has handled the last batch, and
        confirms that batch with the new request's offset (Kua's polling loop, bot/polling.py),
        this is the moment it has finished reacting: no quiet period is needed to tell. A long
        poll left behind by a killed bot does not count: the update it was handling stays
        unconfirmed until the restarted bot has handled it again. (It says nothing about timers
        such as an outbox worker.)
        """
        return self.updates.polling and self.updates.all_confirmed() and self._in_flight == 0

    async def until_polling(self, timeout: float = 10) -> None:
        """Wait until bot_polling(), woken by every request and every change of the queue."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.bot_polling():
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(self._busy_report(timeout))
            await Notifier.wait_any((self._activity, self.updates.changed), left)

    def _busy_report(self, timeout: float) -> str:
        untaken = self.updates.untaken()
        if untaken:
            state = "is polling now" if self.updates.polling else "is NOT polling right now"
            return (
                f"bot did not take {len(untaken)} update(s) within {timeout}s (getUpdates {state}); "
                f"first: {reprlib.repr(untaken[0])}"
            )
        recent = [r for r in self.requests if r.method != "getUpdates"][-5:]
        listing = "\n".join(f"  - {r}" for r in recent)
        return f"bot kept making requests for {timeout}s ({self._in_flight} in flight); last ones:\n{listing}"

    def _touch(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()
        self._activity.notify()

    # --- HTTP -------------------------------------------------------------------

    async def _serve_api(self, request: web.Request) -> web.StreamResponse:
        name, handler = self._handlers.get(
            request.match_info["method"].lower(), (request.match_info["method"], None)
        )
        record = RecordedRequest(method=name, params={}, files={}, chat_id=None, time=self.now())
        self.requests.append(record)
        counts = name != "getUpdates"  # long polling is not "the bot doing something"
        if counts:
            self._in_flight += 1
            self._touch()
        try:
            try:
                if request.match_info["token"] != self.token:
                    raise ApiError(401, "Unauthorized")
                if handler is None:
                    raise ApiError(404, "Not Found")
                values, uploads = await _read_params(request)
                record.params = decode_params(values)
                record.files = {key: upload.data for key, upload in uploads.items()}
                record.chat_id = record.params.get("chat_id")
                left = self._flood_window(name, record.chat_id)
                if left > 0:
                    self.flood_violations.append(record)
                    raise ApiError(
                        429, f"Too Many Requests: retry after {math.ceil(left)}", retry_after=math.ceil(left)
                    )
                faults = self._faults.get(name.lower())
                fault = faults.pop(0) if faults else None
                if fault is None:
                    fault = self._storm_fault(name, record.chat_id)
                if fault is not None and fault.drop:
                    if request.transport is not None:  # None: the client already went away
                        request.transport.close()
                    return web.Response()
                if fault is not None and fault.error is not None:
                    raise fault.error
                body: dict[str, Any] = {"ok": True, "result": await handler(Params(values, uploads))}
                status = 200
            except ApiError as error:
                body, status = error.payload(), error.status
                if error.retry_after is not None:
                    self._flooded(record.chat_id, error.retry_after)
                if error.rule_violation:
                    self.errors.append(record)
            record.status, record.response = status, body
            return web.json_response(body, status=status)
        finally:
            if counts:
                self._in_flight -= 1
                self._touch()
            elif record.response is not None and record.response.get("result"):
                self._touch()  # updates handed out: the bot is about to react

    async def _serve_file(self, request: web.Request) -> web.StreamResponse:
        self._in_flight += 1
        self._touch()
        try:
            stored = self.downloadable(request.match_info["path"])
            if request.match_info["token"] != self.token or stored is None:
                return web.json_response(_NOT_FOUND, status=404)
            self.served.append(stored.data)
            return web.Response(body=stored.data, content_type="application/octet-stream")
        finally:
            self._in_flight -= 1
            self._touch()

    # --- methods that need the server itself ---------------------------------------

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        allowed = params.get_json("allowed_updates", error="can't parse allowed_updates JSON object")
        if allowed is not None and not (
            isinstance(allowed, list) and all(isinstance(a, str) for a in allowed)
        ):
            raise ApiError(400, "Bad Request: can't parse allowed_updates JSON object")
        limit = min(max(params.get_int("limit") or 100, 1), 100)
        timeout = max(params.get_int("timeout") or 0, 0)
        return await self.updates.poll(params.get_int("offset"), limit, timeout, allowed)

    async def _get_me(self, params: Params) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _delete_webhook(self, params: Params) -> bool:
        if params.get_bool("drop_pending_updates"):
            self.updates.drop_pending()
        return True

    async def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates.untaken()),
        }

    async def _ok(self, params: Params) -> bool:
        return True


async def _read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """Parameters from the query string and a urlencoded, multipart or JSON body."""
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.method != "POST" or not request.can_read_body:
        return values, uploads
    try:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: the request body must be a JSON object")
            values.update(body)
            return values, uploads
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "Request Entity Too Large") from None
    except ValueError:
        raise ApiError(400, "Bad Request: can't parse the request body") from None
    for key, value in form.items():
        if isinstance(value, web.FileField):
            uploads[key] = Upload(value.filename, value.file.read(), value.content_type)
        else:
            values[key] = value
    return values, uploads
