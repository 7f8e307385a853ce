"""Engine/session factories and Alembic helpers shared by the bot, the workers and tests."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage import sqlite_driver

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported only where migrations run (about 20 MB of RSS the running bot never
# needs): the bot's start-up check reads the revision table and the scripts' headers itself.

__all__ = [
    "REPO_ROOT",
    "JoinedSessions",
    "UnitOfWork",
    "Write",
    "alembic_config",
    "apply_write",
    "check_database",
    "current_revision_is_head",
    "current_revisions",
    "current_unit",
    "downgrade",
    "head_revisions",
    "joined",
    "load_models",
    "make_engine",
    "make_sessionmaker",
    "upgrade",
    "upgrade_to_head",
    "write_lock",
]

REPO_ROOT = Path(__file__).resolve().parent.parent  # a checkout, or site-packages when installed
# Found through the package, not the working directory, so an installed bot migrates from anywhere.
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Connections the SQLite pool keeps (see make_engine).
SQLITE_POOL_SIZE = 16
SQLITE_POOL_OVERFLOW = 16


def make_engine(url: str, *, echo: bool = False, sqlite_foreign_keys: bool = True) -> AsyncEngine:
    """Create the async engine for ``url`` (``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``).

    SQLite connections get WAL (readers don't block the writer), a busy timeout and
    foreign-key enforcement (off by default in SQLite). ``sqlite_foreign_keys=False`` is
    for migrations only: batch-mode ALTERs recreate tables, and dropping a referenced
    table with enforcement on would run its ON DELETE actions (e.g. cascade-delete children).
    """
    sa_url = make_url(url)
    if sa_url.get_backend_name() != "sqlite":
        # pre_ping: a PostgreSQL restart must not surface as an error in the next update.
        return create_async_engine(sa_url, echo=echo, pool_pre_ping=True)

    database = sa_url.database
    pool: dict[str, int] = {}
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        pool = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_OVERFLOW}

    # One thread hop per statement instead of SQLAlchemy's adapter's three or four. A pool
    # that keeps as many connections as a busy bot has statements in flight: an overflow
    # connection is closed when it is returned, and opening one costs a thread, the PRAGMAs
    # and SQLite parsing the schema again (under 16 reporters tapping, the default 5 kept
    # opened about 80 connections a second: a quarter of the bot's CPU). Idle ones cost
    # nothing but a blocked thread each. (An in-memory database has one connection.)
    engine = create_async_engine(sa_url, echo=echo, async_creator=sqlite_driver.connector(sa_url), **pool)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # PRAGMAs are per connection, so they go in the connect event. None of them may
        # run inside a transaction; pysqlite has none open at this point.
        cursor = dbapi_connection.cursor()
        try:
            for pragma in sqlite_driver.pragma_statements(sqlite_foreign_keys):
                cursor.execute(pragma)
        finally:
            cursor.close()

    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # expire_on_commit=False: objects stay readable after commit without implicit (and,
    # under asyncio, impossible) lazy refreshes.
    return async_sessionmaker(engine, expire_on_commit=False)


async def check_database(engine: AsyncEngine) -> None:
    """Fail fast at startup if the database is unreachable (exceptions propagate)."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


# --- Alembic --------------------------------------------------------------------------------
def load_models() -> MetaData:
    """Import every module that defines tables; returns the complete ``Base.metadata``.

    Used by env.py (autogenerate) and the schema-vs-migrations test, so both see the same
    set of tables. ``storage.models`` is optional only while it is being written.
    """
    from storage.base import Base

    importlib.import_module("storage.fsm")
    try:
        importlib.import_module("storage.models")
    except ModuleNotFoundError as exc:
        if exc.name != "storage.models":  # a broken import inside models must surface
            raise
    return Base.metadata


def _script_config() -> Config:
    from alembic.config import Config

    # No alembic.ini: it is the `alembic` command's file in a checkout (revision naming, logging)
    # and is not installed; running migrations needs only where the scripts are.
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    # Programmatic callers (the app, tests) keep their own logging setup; see env.py.
    cfg.attributes["configure_logging"] = False
    return cfg


def alembic_config(url: str) -> Config:
    """Alembic config for the repo's migrations, targeting ``url``."""
    cfg = _script_config()
    # Config values go through ConfigParser interpolation: escape '%' (URL-encoded passwords).
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(_script_config()).get_heads())


_REVISION = re.compile(r"""^revision(?:\s*:\s*str)?\s*=\s*['"]([^'"]+)['"]""", re.MULTILINE)
_DOWN = re.compile(r"""^down_revision(?:\s*:[^=]+)?\s*=\s*(.+)$""", re.MULTILINE)


def script_heads() -> set[str]:
    """head_revisions() without importing Alembic: from the scripts' revision headers."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found, down = _REVISION.search(source), _DOWN.search(source)
        if found is None:
            continue
        revisions.add(found.group(1))
        if down is not None:
            parents.update(re.findall(r"""['"]([^'"]+)['"]""", down.group(1)))
    return revisions - parents


async def current_revisions(engine: AsyncEngine) -> set[str]:
    """Revisions the database is at (empty for a database never migrated)."""

    from alembic.runtime.migration import MigrationContext

    def read(conn: Connection) -> set[str]:
        return set(MigrationContext.configure(conn).get_current_heads())

    async with engine.connect() as conn:
        return await conn.run_sync(read)


async def current_revision_is_head(engine: AsyncEngine) -> bool:
    """Is the database at the latest schema? (Without importing Alembic, see script_heads.)"""

    def read(conn: Connection) -> set[str]:
        if not inspect(conn).has_table("alembic_version"):
            return set()
        return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}

    async with engine.connect() as conn:
        return await conn.run_sync(read) == script_heads()


async def _run_command(engine: AsyncEngine, fn: Callable[[Config], None]) -> None:
    """Run an Alembic command on a connection of ``engine`` (Alembic's connection sharing).

    env.py is async and would call asyncio.run() itself, which cannot nest inside the
    caller's running loop; handing it a ready connection avoids that.
    """
    cfg = _script_config()

    def run(conn: Connection) -> None:
        cfg.attributes["connection"] = conn
        fn(cfg)

    async with engine.begin() as conn:
        await conn.run_sync(run)


# On SQLite, pass an engine made with make_engine(url, sqlite_foreign_keys=False).
async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    from alembic import command

    await _run_command(engine, lambda cfg: command.upgrade(cfg, revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    from alembic import command

    await _run_command(engine, lambda cfg: command.downgrade(cfg, revision))


async def upgrade_to_head(url: str) -> None:
    """Migrate the database at ``url`` to the latest revision."""
    engine = make_engine(url, sqlite_foreign_keys=False)
    try:
        await upgrade(engine, "head")
    finally:
        await engine.dispose()


# --- one unit of work per update ------------------------------------------------------------
# The bot opens a UnitOfWork for each update (bot.exactly_once). While it is active, in the task
# that opened it, every repository and the FSM storage share its one AsyncSession (JoinedSessions)
# and whatever can wait (the FSM record, the message trace) is written once, in one short
# transaction at the end of the update. Outside a unit (workers, the CLI, other tasks spawned
# during an update) a repository opens its own short session exactly as before.
#
# Order: "send, then write in one short transaction". The handlers talk to Telegram first and the
# update's state, draft, applied-update id and trace rows are written together afterwards, so
# no transaction (and on SQLite no write lock) is ever open while waiting for Telegram, and a
# kill in between leaves the update unapplied: Telegram delivers it again and bot.exactly_once
# applies it once. The few writes that must be durable before the reporter is told about them
# (a submitted case and its code, a stored file) commit on their own right away ("write first,
# then send"), each in its own short transaction.
_unit: ContextVar[UnitOfWork | None] = ContextVar("kua_unit_of_work", default=None)


class UnitOfWork:
    """One update's database session, shared by whoever asks in the task that opened it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.maker: async_sessionmaker[AsyncSession] = _plain(sessions)
        self.bind = self.maker.kw.get("bind")
        self.owner = asyncio.current_task()
        self.session: AsyncSession | None = None
        self.busy = False  # a repository is inside ``async with sessions()`` right now
        # Writes that wait for the end of the update (e.g. trace rows), each a Write (a Core
        # statement and its parameters) run inside the update's single write transaction.
        self.pending: list[Write] = []
        self._token: Any = None

    async def __aenter__(self) -> UnitOfWork:
        self._token = _unit.set(self)
        return self

    async def __aexit__(self, *exc: object) -> None:
        _unit.reset(self._token)
        if self.session is not None:
            await self.session.close()
            self.session = None

    def take_pending(self) -> list[Write]:
        pending, self.pending = self.pending, []
        return pending

    async def write_pending(self) -> None:
        """Write only the buffered rows (an update that failed still records its trace)."""
        pending = self.take_pending()
        if not pending:
            return
        engine = self.maker.kw["bind"]
        async with write_lock(engine), self.maker() as session, session.begin():
            for write in pending:
                await apply_write(session, write)


@dataclass(frozen=True)
class Write:
    """One statement of a write transaction, for the end of an update (UnitOfWork): a Core
    statement and its parameters (one mapping, or a list of them for many rows); ``otherwise``
    runs instead when it changed no row (an UPDATE of a row that is not there becomes its
    INSERT). Run through a session (``apply_write``) or below SQLAlchemy on SQLite
    (storage.sqlite_direct) — the same SQL either way."""

    statement: Any
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    otherwise: Write | None = None


async def apply_write(session: AsyncSession, write: Write) -> None:
    """``write`` through a session."""
    result = await session.execute(write.statement, write.params)
    if write.otherwise is not None and not result.rowcount:  # type: ignore[attr-defined]
        await apply_write(session, write.otherwise)


def current_unit() -> UnitOfWork | None:
    """The update's unit of work, if one is open in this very task (not in tasks it spawned)."""
    unit = _unit.get()
    if unit is None or unit.owner is not asyncio.current_task():
        return None
    return unit


class _JoinedSession:
    def __init__(self, unit: UnitOfWork) -> None:
        self.unit = unit

    async def __aenter__(self) -> AsyncSession:
        self.unit.busy = True
        if self.unit.session is None:
            self.unit.session = self.unit.maker()
        return self.unit.session

    async def __aexit__(self, *exc: object) -> None:
        session = self.unit.session
        try:
            if session is not None:
                # As close() would: detach what was loaded (objects stay readable) and end any
                # transaction, so no connection (and no lock) is held between two calls.
                session.expunge_all()
                if session.in_transaction():
                    await session.rollback()
        finally:
            self.unit.busy = False


class JoinedSessions:
    """Called like an ``async_sessionmaker``: the update's shared session inside a unit of work
    (see UnitOfWork), a session of its own otherwise or when the shared one is already in use
    (a repository method calling another from inside its ``async with``)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.maker: async_sessionmaker[AsyncSession] = _plain(sessions)

    def __call__(self) -> Any:
        unit = current_unit()
        if unit is None or unit.busy or unit.bind is not self.maker.kw.get("bind"):
            return self.maker()
        return _JoinedSession(unit)

    def begin(self) -> Any:
        return self.maker.begin()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.maker, name)


def _plain(sessions: Any) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = (
        sessions.maker if isinstance(sessions, JoinedSessions) else sessions
    )
    return maker


def joined(sessions: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """``sessions`` as JoinedSessions (typed as the sessionmaker it stands in for)."""
    wrapped: Any = sessions if isinstance(sessions, JoinedSessions) else JoinedSessions(sessions)
    return wrapped  # type: ignore[no-any-return]


# SQLite has one writer at a time per database file. Within the process, write transactions of
# the bot take turns on this lock instead of racing for SQLite's lock and failing with "database
# is locked" when the busy timeout runs out under load; other processes (a CLI) still queue on
# busy_timeout. PostgreSQL needs none: row locks and MVCC (a no-op lock there).
_write_locks: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


def write_lock(engine: AsyncEngine | None) -> contextlib.AbstractAsyncContextManager[Any]:
    if engine is None or engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    lock = _write_locks.get(engine.sync_engine)
    if lock is None:
        lock = _write_locks[engine.sync_engine] = asyncio.Lock()
    return lock
