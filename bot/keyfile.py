"""Where the key file lives by default, and warnings when it sits where a seizure would take it too.

The key file and the database must not travel together: whoever copies a directory holding both
can read every report. So the default is ``./keys/keys.json``, beside ``./data/`` rather than in
it. Installations from before that default keep ``./data/keys.json``: it is used as long as no
``./keys/keys.json`` exists (generating new keys would make the stored reports unreadable), and
start-up warns until it is moved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import make_url

__all__ = ["DEFAULT_KEY_DIR", "KEY_FILE_NAME", "default_key_file", "placement_warnings"]

DEFAULT_KEY_DIR = "keys"  # relative to the start directory, like app.data_dir
KEY_FILE_NAME = "keys.json"  # the same name storage.keys uses for its own fallback


def default_key_file(cwd: Path, data_dir: Path) -> Path:
    """``<cwd>/keys/keys.json``, unless only the old ``<data_dir>/keys.json`` exists."""
    current = cwd / DEFAULT_KEY_DIR / KEY_FILE_NAME
    legacy = data_dir / KEY_FILE_NAME
    if legacy.is_file() and not current.exists():
        return legacy
    return current


class _Security(Protocol):
    """What the warnings need of ``bot.config.SecurityConfig`` (which imports this module)."""

    @property
    def key_file(self) -> Path: ...
    @property
    def keys_configured(self) -> bool: ...


def _sqlite_file(database_url: str) -> Path | None:
    url = make_url(database_url)
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def placement_warnings(security: _Security, database_url: str, data_dir: Path) -> list[str]:
    """One line per problem with where the key file is; empty when keys come from the config."""
    if security.keys_configured:
        return []
    key_file = security.key_file
    warnings: list[str] = []
    database = _sqlite_file(database_url)
    if database is not None and database.parent == key_file.parent:
        warnings.append(
            f"The key file {key_file} is in the same directory as the SQLite database {database}: "
            f"whoever copies that directory (or its backup) can read every report. Stop the bot, "
            f"move the key file elsewhere (e.g. mkdir -m 700 keys && mv {key_file} keys/) and set "
            f"security.key_file if it is not ./keys/{KEY_FILE_NAME}."
        )
    elif key_file.parent == data_dir:
        warnings.append(
            f"The key file {key_file} is in the data directory {data_dir} (the old "
            f"default): move it to ./keys/{KEY_FILE_NAME} or set security.key_file, and keep it "
            f"out of the data directory's backups."
        )
    legacy = data_dir / KEY_FILE_NAME
    if legacy != key_file and legacy.is_file():
        warnings.append(
            f"An old key file {legacy} is still in the data directory while {key_file} is in use: "
            f"if it is a copy, delete it; if it holds other keys, the data written with them "
            f"needs them (add them to security.data_keys)."
        )
    return warnings
