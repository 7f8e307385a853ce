"""Start-up: config → storage → bot → dispatcher → runner. Nothing else lives here."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram.utils.i18n import I18n
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.account_flood import FloodMiddleware
from bot.callbacks import AnswerTracker, CallbackGuard
from bot.config import Config, ConfigError, load_config
from bot.delivery import Delivery
from bot.exactly_once import ExactlyOnceMiddleware, RepeatedEditIsDone
from bot.flood import FloodControlMiddleware, FloodGate
from bot.i18n import StoredLocaleMiddleware, make_i18n
from bot.inline_filters import inline_magic_filters
from bot.isolation import BoundedEventIsolation
from bot.junk import KnownTypesMiddleware
from bot.keyfile import placement_warnings
from bot.lazy_types import warm_up
from bot.logs import setup_logging
from bot.malloc import limit_arenas, trim_until
from bot.polling import poll_until_stopped, stop_on_signals
from bot.session import KeptTypesSession
from bot.trace import IncomingTraceMiddleware, OutgoingTraceMiddleware
from bot.workers import housekeeping
from handlers import get_routers
from handlers.profile import set_commands, set_descriptions, set_group_commands
from handlers.settings import Config as HandlerConfig
from storage.base import utcnow
from storage.crypto import Crypto
from storage.db import check_database, current_revision_is_head, make_engine, make_sessionmaker
from storage.fsm import ReadAlong, SQLAlchemyStorage
from storage.keyguard import KeysDoNotMatch, holds_data, verify_keys
from storage.keys import key_file_path, load_crypto
from storage.redis_keys import HashedKeyBuilder
from storage.repositories import Store

log = logging.getLogger("kua")
WORKER_GRACE = 10.0  # seconds a stopping bot waits for a worker round in progress


class StartupError(Exception):
    """A problem the operator must fix; its message is one line saying which key and how."""


@dataclass
class App:
    config: Config
    bot: Bot
    dispatcher: Dispatcher
    store: Store
    fsm: SQLAlchemyStorage
    engine: AsyncEngine
    i18n: I18n
    gate: FloodGate | None = None
    redis: Any = None  # redis.asyncio.Redis when redis.url is set

    async def close(self) -> None:
        await self.dispatcher.storage.close()
        isolation = self.dispatcher.fsm.events_isolation
        await isolation.close()
        if self.redis is not None:  # aiogram's RedisEventIsolation.close() leaves it open
            await self.redis.aclose(close_connection_pool=True)
        await self.bot.session.close()
        await self.engine.dispose()


def build_bot(config: Config) -> Bot:
    # Every Bot API call goes to telegram.api_base (a local Bot API server or a test server).
    session = KeptTypesSession(api=TelegramAPIServer.from_base(config.telegram.api_base))
    return Bot(
        config.telegram.token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def build_redis(config: Config) -> Any:
    if not config.redis.enabled:
        return None
    from redis.asyncio import Redis

    return Redis.from_url(config.redis.url)


def build_isolation(redis: Any, keys: HashedKeyBuilder) -> BaseEventIsolation:
    """Two quick taps by one user are handled one after the other, never interleaved."""
    if redis is not None:
        from aiogram.fsm.storage.redis import RedisEventIsolation

        return RedisEventIsolation(redis, key_builder=keys)
    return BoundedEventIsolation()  # aiogram's SimpleEventIsolation keeps a lock per user forever


def build_dispatcher(
    config: Config,
    store: Store,
    fsm: SQLAlchemyStorage,
    i18n: I18n,
    *,
    isolation: BaseEventIsolation | None = None,
    gate: FloodGate | None = None,
) -> Dispatcher:
    dp = Dispatcher(
        storage=fsm,
        events_isolation=isolation or BoundedEventIsolation(),
        config=HandlerConfig.of(config),  # the handlers' slice: no token, keys or URLs
        store=store,
        flood_gate=gate,
    )
    dp.update.outer_middleware(KnownTypesMiddleware())
    # Then a flooding account costs neither a database read nor a handler.
    dp.update.outer_middleware(FloodMiddleware(config.limits, store.crypto, i18n))
    # Inside aiogram's FSM middleware (registered by Dispatcher()), so inside the key's lock.
    dp.update.outer_middleware(ExactlyOnceMiddleware(fsm))
    StoredLocaleMiddleware(i18n).setup(dp)
    dp.callback_query.outer_middleware(CallbackGuard())  # after i18n: alerts in the user's language
    dp.message.outer_middleware(IncomingTraceMiddleware(store))  # for "Erase this chat"
    dp.include_routers(*get_routers())
    inline_magic_filters(dp)  # aiogram would run each in a thread
    return dp


async def build_app(config: Config, *, clock: Callable[[], datetime] = utcnow) -> App:
    """Everything wired and checked; raises StartupError with an actionable line."""
    warm_up()  # the schemas of the types every update uses (bot.lazy_types)
    try:
        i18n = make_i18n(config.app.default_locale)
    except RuntimeError as exc:
        raise StartupError(str(exc)) from None

    engine = make_engine(config.database.url, echo=config.database.echo)
    where = make_url(config.database.url).render_as_string(hide_password=True)
    try:
        await check_database(engine)
        migrated = await current_revision_is_head(engine)
    except Exception as exc:  # noqa: BLE001 - any driver error means the same to the operator
        await engine.dispose()
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise StartupError(
            f"database.url: cannot use the database at {where} ({reason}); check "
            "KUA_DATABASE__URL or [database] url, and that the server is running"
        ) from None
    if not migrated:
        await engine.dispose()
        raise StartupError(
            f"database.url: the database at {where} is not at the latest schema; run "
            "scripts/migrate.sh (python -m bot.migrate upgrade) first"
        )

    # Keys last: a broken database must not leave freshly generated keys behind. Keys are
    # generated only for an empty database, and must read what the database holds.
    sessions = make_sessionmaker(engine)
    try:
        crypto, warnings = await guarded_crypto(config, sessions, where)
    except StartupError:
        await engine.dispose()
        raise
    for warning in [*warnings, *placement_warnings(config.security, config.database.url, config.data_dir)]:
        log.warning("%s", warning)

    store = Store(sessions, crypto, clock)
    fsm = SQLAlchemyStorage(sessions, crypto, ttl=timedelta(days=config.retention.draft_days), clock=clock)
    locale, locale_params = store.accounts.locale_query()  # one read per update
    fsm.read_along = {"locale": ReadAlong(locale, lambda key: locale_params(key.user_id))}
    redis = build_redis(config)
    keys = HashedKeyBuilder(crypto)
    gate = FloodGate(chat_ref=keys.chat_ref, redis=redis)
    bot = build_bot(config)
    bot.session.middleware(FloodControlMiddleware(gate))  # every request, every sender
    bot.session.middleware(AnswerTracker())  # which callbacks were answered (CallbackGuard)
    bot.session.middleware(RepeatedEditIsDone())  # an update applied again repeats its edits
    bot.session.middleware(OutgoingTraceMiddleware(store))  # for "Erase this chat"
    dp = build_dispatcher(config, store, fsm, i18n, isolation=build_isolation(redis, keys), gate=gate)
    return App(
        config=config,
        bot=bot,
        dispatcher=dp,
        store=store,
        fsm=fsm,
        engine=engine,
        i18n=i18n,
        gate=gate,
        redis=redis,
    )


async def guarded_crypto(
    config: Config, sessions: async_sessionmaker[AsyncSession], where: str
) -> tuple[Crypto, list[str]]:
    """The configured keys, proven to read the stored data (StartupError otherwise)."""
    try:
        stored = await holds_data(sessions)
        crypto, warnings = load_crypto(config.security, config.data_dir, create=not stored)
    except ConfigError as exc:
        raise StartupError(str(exc)) from None
    try:
        await verify_keys(sessions, crypto)
    except KeysDoNotMatch as exc:
        source = (
            "security.data_keys"
            if config.security.data_keys and exc.part == "data_keys"
            else "security.hmac_secret"
            if config.security.hmac_secret and exc.part == "hmac_secret"
            else f"security.key_file {key_file_path(config.security, config.data_dir)}"
        )
        raise StartupError(
            f"{source}: these keys are not the ones the data in the database at {where} was "
            f"written with ({exc.part} differ); restore the key file that belongs to this "
            f"database from your backup (or set KUA_SECURITY__KEY_FILE to it) — starting with "
            f"other keys would leave every stored report unreadable"
        ) from None
    return crypto, warnings


async def check_telegram(app: App) -> None:
    try:
        me = await app.bot.get_me()
    except TelegramUnauthorizedError:
        raise StartupError(
            "telegram.token was rejected by Telegram (Unauthorized); check "
            "KUA_TELEGRAM__TOKEN or [telegram] token"
        ) from None
    except TelegramNetworkError as exc:
        raise StartupError(
            f"telegram.api_base {app.config.telegram.api_base} is unreachable "
            f"({type(exc).__name__}); check KUA_TELEGRAM__API_BASE and the "
            "network"
        ) from None
    log.info("running as @%s", me.username)


async def serve(app: App, *, handle_signals: bool = True) -> None:
    """Run until stopped: set commands, start the workers, poll or serve the webhook."""
    await check_telegram(app)
    await set_commands(app.bot, app.i18n)
    await set_group_commands(app.bot, app.i18n, app.config.coordination.chat_id)
    await set_descriptions(app.bot, app.i18n)
    stop = asyncio.Event()
    workers = asyncio.create_task(housekeeping(app.store, app.fsm, app.config, stop))
    delivery = Delivery(app.bot, app.store, app.config, app.i18n, worker_id=secrets.token_hex(4))
    delivering = asyncio.create_task(delivery.run(stop))
    trimming = asyncio.create_task(trim_until(stop))  # freed memory back to the system (bot.malloc)
    try:
        if app.config.telegram.use_webhook:
            from bot.webhook import run_webhook

            await run_webhook(app.bot, app.dispatcher, app.config.telegram)
        else:
            await app.bot.delete_webhook(drop_pending_updates=False)
            await poll(app, handle_signals=handle_signals)
    finally:
        stop.set()
        # The delivery worker finishes the item in progress (a card sent is recorded) and
        # hands back the rest; whatever is still running after the grace period is cancelled.
        background = (workers, delivering, trimming)
        try:
            await asyncio.wait_for(
                asyncio.shield(asyncio.gather(*background, return_exceptions=True)), WORKER_GRACE
            )
        except (TimeoutError, asyncio.CancelledError):
            for task in background:
                task.cancel()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.gather(*background, return_exceptions=True), 1.0)


async def poll(app: App, *, handle_signals: bool) -> None:
    """Long polling until SIGINT/SIGTERM (graceful: the batch in hand is finished and
    confirmed) or cancellation (abrupt: the unconfirmed batch comes again). See bot.polling."""
    dp = app.dispatcher
    stop = asyncio.Event()
    signals = stop_on_signals(stop) if handle_signals else contextlib.nullcontext()
    with signals:
        await poll_until_stopped(dp, app.bot, stop, allowed_updates=dp.resolve_used_update_types())


async def run(config: Config) -> None:
    app = await build_app(config)
    # What start-up built stays for good (aiogram's models, the catalogs, SQLAlchemy's mappers:
    # about 290,000 objects). Frozen, the collector no longer walks them: a full collection took
    # about 130 ms, a pause every update waiting at that moment shared (the p99 latency).
    gc.collect()
    gc.freeze()
    try:
        await serve(app)
    finally:
        await app.close()


def main() -> int:
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"kua: config error: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.logging.level)
    limit_arenas()  # before the first thread (bot.malloc)
    try:
        asyncio.run(run(config))
    except StartupError as exc:
        print(f"kua: cannot start: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
