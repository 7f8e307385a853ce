"""Alembic environment: async engines, batch mode for SQLite, the URL given by the caller.

The database URL is, in order of precedence:
1. ``sqlalchemy.url`` set on the Config by a programmatic caller (storage.db.alembic_config);
2. ``alembic -x url=...``;
3. the ``KUA_DATABASE__URL`` environment variable.
``python -m bot.migrate`` reads the app config (config.toml too) and passes its URL as 1.;
storage/ never reads the config itself.

A caller may also hand over a ready connection in ``config.attributes["connection"]``
(storage.db does, to run migrations from inside a running event loop).
"""

from __future__ import annotations

import asyncio
import os
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection, make_url

from storage.base import UTCDateTime
from storage.db import load_models, make_engine

config = context.config
# Every table of the app (storage.fsm, storage.models), for autogenerate.
target_metadata = load_models()

# Configure logging only for the `alembic` CLI: fileConfig would replace the logging setup
# of the bot or of pytest when migrations run programmatically.
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


_ASYNC_DRIVERS = {"postgresql": "asyncpg", "sqlite": "aiosqlite"}


def _async_driver(url: str) -> str:
    # The app config accepts postgresql://... and sqlite:///...; accept them here too.
    sa_url = make_url(url)
    backend = sa_url.get_backend_name()
    if backend in _ASYNC_DRIVERS and sa_url.get_driver_name() != _ASYNC_DRIVERS[backend]:
        sa_url = sa_url.set(drivername=f"{backend}+{_ASYNC_DRIVERS[backend]}")
    return sa_url.render_as_string(hide_password=False)


def _database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    url = context.get_x_argument(as_dictionary=True).get("url")
    if url:
        return _async_driver(url)
    url = os.environ.get("KUA_DATABASE__URL")
    if url:
        return _async_driver(url)
    raise RuntimeError(
        "No database URL: pass -x url=..., set KUA_DATABASE__URL, "
        "or run python -m bot.migrate (which reads the app config)"
    )


def _render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # Autogenerate would write `storage.base.UTCDateTime(...)` (without importing it).
    # Migrations must not depend on app code that can change later, so render the
    # underlying column type; the UTC handling lives in Python, not in the schema.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout (``alembic upgrade --sql``) without a database."""
    _configure(url=_database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run_migrations(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_migrations_async() -> None:
    # Foreign keys off on SQLite: batch ALTERs drop and recreate tables (see make_engine).
    engine = make_engine(_database_url(), sqlite_foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_migrations(connection)
    else:
        asyncio.run(_run_migrations_async())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
