"""`python -m bot check [--quick]`: can this configuration run the bot? One line per check.

    ok    config: ...                  the configuration loads (the same rules as start-up)
    ok    database: ...                reachable and at the latest schema
    ok    keys: ...                    present, and able to decrypt a value already stored
    ok    telegram: ...                the token is accepted (getMe)
    ok    coordinators' chat: ...      reachable, the bot an admin (allowed to manage topics in a forum)
    ok    on-call: ...                 every on-call coordinator reachable (getChat)

Exit status 0 when nothing failed ("warn" lines do not fail), 2 otherwise. ``--quick`` leaves
out the Telegram checks (for a container health check: no traffic to Telegram every 30 s).

Nothing is changed: no database file, key file or schema is created, and no message is sent.
The output names no Telegram id (on-call coordinators by their position in the list) and no
secret (database passwords are masked).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cryptography.fernet import InvalidToken
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Config, ConfigError, load_config
from bot.keyfile import placement_warnings
from storage.crypto import Crypto
from storage.db import check_database, current_revisions, head_revisions, make_engine
from storage.health import encrypted_sample
from storage.keys import load_crypto

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.types import User

__all__ = ["Line", "main", "run_checks"]

Status = Literal["ok", "warn", "FAIL"]
REQUEST_TIMEOUT = 15  # seconds per Bot API call: a check should answer, not hang for a minute


@dataclass(frozen=True, slots=True)
class Line:
    status: Status
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.status:<5} {self.name}: {self.detail}"


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return text or type(exc).__name__


async def run_checks(config: Config, *, quick: bool = False) -> list[Line]:
    """Every check that applies, in order; later checks are left out when what they need failed."""
    lines: list[Line] = []
    engine = await _check_database(config, lines)
    try:
        await _check_keys(config, engine, lines)
    finally:
        if engine is not None:
            await engine.dispose()
    if not quick:
        await _check_telegram(config, lines)
    return lines


# --- database ------------------------------------------------------------------------------------


def _missing_sqlite_file(config: Config) -> Path | None:
    url = make_url(config.database.url)
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return None if Path(database).is_file() else Path(database)


async def _check_database(config: Config, lines: list[Line]) -> AsyncEngine | None:
    """Appends the database line; returns an engine when the database is usable."""
    url = make_url(config.database.url)
    where = url.render_as_string(hide_password=True)
    fix = "run python -m bot.migrate upgrade"
    missing = _missing_sqlite_file(config)
    if missing is not None:
        # Connecting would create an empty file; a check creates nothing.
        lines.append(Line("FAIL", "database", f"no SQLite database at {missing}: {fix}"))
        return None
    engine = make_engine(config.database.url)
    try:
        await check_database(engine)
        current = await current_revisions(engine)
    except Exception as exc:  # noqa: BLE001 - any driver error means the same to the operator
        await engine.dispose()
        lines.append(
            Line(
                "FAIL",
                "database",
                f"cannot use {where} ({_reason(exc)}): check "
                "database.url (KUA_DATABASE__URL) and that the "
                "server is running",
            )
        )
        return None
    heads = head_revisions()
    if current != heads:
        await engine.dispose()
        at = ", ".join(sorted(current)) or "an empty database"
        lines.append(
            Line(
                "FAIL",
                "database",
                f"{where} is at {at}, not the latest schema ({', '.join(sorted(heads))}): {fix}",
            )
        )
        return None
    lines.append(Line("ok", "database", f"{where}, schema {', '.join(sorted(heads))} (latest)"))
    return engine


# --- keys ------------------------------------------------------------------------------------------


async def _check_keys(config: Config, engine: AsyncEngine | None, lines: list[Line]) -> None:
    security = config.security
    sample = await encrypted_sample(engine) if engine is not None else None
    from_file = not security.keys_configured
    if from_file and not security.key_file.exists():
        if sample is not None:
            lines.append(
                Line(
                    "FAIL",
                    "keys",
                    f"no key file at {security.key_file}, but the "
                    f"database holds encrypted data: restore the key "
                    f"file from your backup (or set security.key_file)",
                )
            )
        else:
            lines.append(
                Line(
                    "warn",
                    "keys",
                    f"no key file yet at {security.key_file}: the bot "
                    f"generates it on first start; back it up then",
                )
            )
        lines.extend(
            Line("warn", "keys", w)
            for w in placement_warnings(config.security, config.database.url, config.data_dir)
        )
        return
    try:
        # The file exists (or is not needed), so this only reads it.
        crypto, warnings = load_crypto(security, config.data_dir)
    except ConfigError as exc:
        lines.append(Line("FAIL", "keys", str(exc)))
        return
    source = f"from {security.key_file}" if from_file else "from the configuration"
    if engine is None:
        lines.append(Line("ok", "keys", f"{source} (stored data not checked: no database)"))
    elif sample is None:
        lines.append(Line("ok", "keys", f"{source}; nothing encrypted is stored yet"))
    elif _decrypts(crypto, sample[1]):
        lines.append(Line("ok", "keys", f"{source}; they decrypt a stored value ({sample[0]})"))
    else:
        lines.append(
            Line(
                "FAIL",
                "keys",
                f"the keys {source} cannot decrypt a stored value "
                f"({sample[0]}): these are not the keys the data was "
                f"written with; restore the right key file or add the "
                f"old key to security.data_keys",
            )
        )
    lines.extend(
        Line("warn", "keys", w)
        for w in [*warnings, *placement_warnings(config.security, config.database.url, config.data_dir)]
    )


def _placement(config: Config) -> list[str]:
    return placement_warnings(config.security, config.database.url, config.data_dir)


def _decrypts(crypto: Crypto, token: bytes) -> bool:
    try:
        crypto.decrypt(token)
    except InvalidToken:
        return False
    return True


# --- Telegram -------------------------------------------------------------------------------------

# aiogram is imported only here: building its ~300 API types costs seconds of CPU, which a
# container health check (--quick, every minute) should not pay.


async def _check_telegram(config: Config, lines: list[Line]) -> None:
    from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramUnauthorizedError

    from bot.app import build_bot  # the same Bot the running bot builds (api_base and all)

    bot = build_bot(config)
    try:
        try:
            me = await bot.get_me(request_timeout=REQUEST_TIMEOUT)
        except TelegramUnauthorizedError:
            lines.append(
                Line(
                    "FAIL",
                    "telegram",
                    "the token was rejected (Unauthorized): check telegram.token (KUA_TELEGRAM__TOKEN)",
                )
            )
            return
        except (TelegramNetworkError, TelegramAPIError) as exc:
            lines.append(
                Line(
                    "FAIL",
                    "telegram",
                    f"{config.telegram.api_base} did not answer "
                    f"getMe ({_reason(exc)}): check "
                    f"telegram.api_base and the network",
                )
            )
            return
        lines.append(Line("ok", "telegram", f"token accepted by {config.telegram.api_base} (@{me.username})"))
        lines.append(await _check_group(config, bot, me))
        lines.append(await _check_on_call(config, bot))
    finally:
        await bot.session.close()


async def _check_group(config: Config, bot: Bot, me: User) -> Line:
    from aiogram.enums import ChatType
    from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
    from aiogram.types import ChatMemberAdministrator

    name = "coordinators' chat"
    chat_id = config.coordination.chat_id
    if not config.coordination.has_group:
        return Line(
            "FAIL",
            name,
            "coordination.chat_id is not set, so cases cannot be delivered: "
            "set KUA_COORDINATION__CHAT_ID or [coordination] chat_id",
        )
    try:
        chat = await bot.get_chat(chat_id, request_timeout=REQUEST_TIMEOUT)
        member = await bot.get_chat_member(chat_id, me.id, request_timeout=REQUEST_TIMEOUT)
    except (TelegramNetworkError, TelegramAPIError) as exc:
        return Line(
            "FAIL",
            name,
            f"coordination.chat_id is unreachable ({_reason(exc)}): add "
            f"the bot to the group, and check the id (it starts with -100 "
            f"for a supergroup)",
        )
    if chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return Line(
            "FAIL", name, f"coordination.chat_id is a {chat.type}, not a group: use the coordinators' group"
        )
    title = f'"{chat.title}"' + (" (forum)" if chat.is_forum else "")
    if not isinstance(member, ChatMemberAdministrator):
        return Line(
            "FAIL",
            name,
            f"{title}: the bot is a {member.status}, not an administrator: "
            f"make it an admin (it must see replies and delete messages)",
        )
    if chat.is_forum and not member.can_manage_topics:
        return Line(
            "FAIL",
            name,
            f"{title}: the bot is an admin but not allowed to manage "
            f"topics: give it that right (one topic per case)",
        )
    rights = " allowed to manage topics" if chat.is_forum else ""
    return Line("ok", name, f"{title}, the bot is an admin{rights}")


async def _check_on_call(config: Config, bot: Bot) -> Line:
    from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

    name = "on-call"
    on_call = config.coordination.on_call
    if not on_call:
        return Line(
            "warn",
            name,
            "nobody is on call (coordination.on_call): urgent cases are only posted in the group",
        )
    unreachable: list[str] = []
    for position, user_id in enumerate(on_call):
        try:
            await bot.get_chat(user_id, request_timeout=REQUEST_TIMEOUT)
        except (TelegramNetworkError, TelegramAPIError) as exc:
            unreachable.append(f"coordination.on_call[{position}] ({_reason(exc)})")
    if unreachable:
        return Line(
            "FAIL", name, f"{', '.join(unreachable)} unreachable: each must open the bot and press Start once"
        )
    return Line("ok", name, f"{len(on_call)} of {len(on_call)} reachable")


# --- command line -----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot check", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="configuration, database and keys only (no Telegram calls)"
    )
    args = parser.parse_args(argv)
    try:
        config = load_config()
    except ConfigError as exc:
        print(Line("FAIL", "config", str(exc)))
        return 2
    shown = str(config.config_file) if config.config_file else "no file, environment only"
    lines = [Line("ok", "config", f"{shown}; {config.telegram.mode}")]
    lines += asyncio.run(run_checks(config, quick=args.quick))
    for line in lines:
        print(line)
    sys.stdout.flush()
    return 2 if any(line.status == "FAIL" for line in lines) else 0
