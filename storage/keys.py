"""Where the encryption keys come from: configuration first, otherwise a local key file.

The key file (JSON ``{"data_keys": [...], "hmac_secret": "..."}``) is generated on first start so
that a fresh install is encrypted from the first report. It must live apart from the database:
whoever holds both can read every report, and whoever loses it can read none.
"""

from __future__ import annotations

import binascii
import json
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from cryptography.fernet import Fernet
from pydantic import SecretStr

from domain.errors import ConfigError
from storage.crypto import Crypto

__all__ = [
    "KEY_FILE_NAME",
    "generate_key_material",
    "key_file_path",
    "load_crypto",
    "retire_old_keys",
    "rotate_key_file",
]

KEY_FILE_NAME = "keys.json"
_KEY = "security.key_file"


class _SecurityLike(Protocol):
    """The key settings :func:`load_crypto` takes (``bot/`` passes its ``[security]`` section)."""

    @property
    def data_keys(self) -> Sequence[SecretStr | str]: ...
    @property
    def hmac_secret(self) -> SecretStr | str: ...
    @property
    def key_file(self) -> Path | str | None: ...


def _reveal(value: SecretStr | str) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def generate_key_material() -> dict[str, Any]:
    """A new key file body: one Fernet key and a 48-byte url-safe HMAC secret (64 chars)."""
    return {"data_keys": [Fernet.generate_key().decode()], "hmac_secret": secrets.token_urlsafe(48)}


def key_file_path(security: _SecurityLike, data_dir: Path) -> Path:
    return Path(security.key_file) if security.key_file else Path(data_dir) / KEY_FILE_NAME


def load_crypto(security: _SecurityLike, data_dir: Path, *, create: bool = True) -> tuple[Crypto, list[str]]:
    """Build the :class:`Crypto` for this process; returns it with warnings for the log.

    Configured ``data_keys`` and ``hmac_secret`` win; whatever is not configured comes from the key
    file (``security.key_file``; bot.keyfile picks its default), created if missing.
    Raises :class:`ConfigError` (key ``security.key_file``) when the file is unusable, or missing
    while ``create`` is False (the database already holds data written with some keys: new keys
    would make all of it unreadable).
    """
    data_keys = [_reveal(key) for key in security.data_keys]
    hmac_secret = _reveal(security.hmac_secret)
    if data_keys and hmac_secret:
        return Crypto(data_keys, hmac_secret), []

    path = key_file_path(security, data_dir)
    warnings: list[str] = []
    if not path.exists() and not create:
        raise ConfigError(
            _KEY,
            f"security.key_file {path} is missing, but the database holds data encrypted with "
            f"it: restore the key file from your backup to that path (or point "
            f"security.key_file / KUA_SECURITY__KEY_FILE at it); new keys would make every "
            f"stored report unreadable, so none were generated",
        )
    if path.exists():
        material = _read_key_file(path, need_keys=not data_keys, need_secret=not hmac_secret)
        warnings.extend(_permission_warnings(path))
    else:
        created = _create_key_file(path)
        if created is None:  # another process created it first: use theirs
            material = _read_key_file(path, need_keys=not data_keys, need_secret=not hmac_secret)
        else:
            material = created
            warnings.append(
                f"Generated new encryption keys into {path}. Back this file up now and keep it off "
                f"the database server and out of database backups: losing it makes the stored "
                f"reports unreadable, and anyone holding both it and the database can read them."
            )

    return Crypto(data_keys or material["data_keys"], hmac_secret or material["hmac_secret"]), warnings


def _corrupt(path: Path, why: str) -> ConfigError:
    return ConfigError(
        _KEY,
        f"security.key_file {path} is unusable: {why}; restore it from your backup "
        f"(or set security.key_file / KUA_SECURITY__KEY_FILE to the right file)",
    )


def _read_key_file(path: Path, *, need_keys: bool, need_secret: bool) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _corrupt(path, f"cannot read it ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _corrupt(path, "it is not valid JSON") from None
    if not isinstance(data, dict):
        raise _corrupt(path, 'expected a JSON object {"data_keys": [...], "hmac_secret": "..."}')

    keys = data.get("data_keys")
    if keys is not None or need_keys:
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            raise _corrupt(path, '"data_keys" must be a non-empty list of Fernet keys')
        for i, key in enumerate(keys):
            try:
                Fernet(key)
            except (ValueError, TypeError, binascii.Error):
                raise _corrupt(path, f'"data_keys"[{i}] is not a valid Fernet key') from None

    secret = data.get("hmac_secret")
    if (secret is not None or need_secret) and (not isinstance(secret, str) or len(secret) < 32):
        raise _corrupt(path, '"hmac_secret" must be a string of at least 32 characters')
    return data


def _permission_warnings(path: Path) -> list[str]:
    if os.name != "posix":
        return []
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return [
            f"Key file {path} is accessible to other users (mode {mode:04o}); "
            f"restrict it with: chmod 600 {path}"
        ]
    return []


def _create_key_file(path: Path) -> dict[str, Any] | None:
    """Write fresh key material to ``path`` (0600) atomically; None if it appeared meanwhile.

    The content goes to a private temporary file first and is then hard-linked into place, so a
    concurrent reader never sees a half-written file and an existing file is never replaced.
    """
    material = generate_key_material()
    body = (json.dumps(material, indent=2) + "\n").encode()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = _private_tmp(path, body)
        try:
            try:
                os.link(tmp, path)
            except FileExistsError:
                return None
            except OSError:
                # Filesystems without hard links: exclusive create in place (still never overwrites).
                try:
                    fd2 = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:
                    return None
                try:
                    os.write(fd2, body)
                    os.fsync(fd2)
                finally:
                    os.close(fd2)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(path.parent)
    except OSError as exc:
        raise ConfigError(
            _KEY,
            f"cannot create the key file {path} ({exc.strerror or exc}): make its directory "
            f"writable, or set security.key_file / KUA_SECURITY__KEY_FILE elsewhere",
        ) from None
    return material


def _fsync_dir(directory: Path) -> None:
    # Make the new directory entry durable too; not possible everywhere, hence best effort.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def rotate_key_file(path: Path) -> int:
    """Put a new data key first in the key file (old keys kept, so old records stay readable);
    returns the number of data keys now in it."""
    material = _read_key_file(path, need_keys=True, need_secret=False)
    material["data_keys"] = [Fernet.generate_key().decode(), *material["data_keys"]]
    _replace_key_file(path, material)
    return len(material["data_keys"])


def retire_old_keys(path: Path) -> int:
    """Keep only the first data key in the key file (after every record was re-encrypted under
    it: storage.reencrypt); returns how many keys were removed."""
    material = _read_key_file(path, need_keys=True, need_secret=False)
    removed = len(material["data_keys"]) - 1
    material["data_keys"] = material["data_keys"][:1]
    _replace_key_file(path, material)
    return removed


def _replace_key_file(path: Path, material: dict[str, Any]) -> None:
    """Replace the key file atomically: a private temporary file renamed over it."""
    body = (json.dumps(material, indent=2) + "\n").encode()
    tmp = _private_tmp(path, body)
    try:
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _private_tmp(path: Path, body: bytes) -> Path:
    """`body` written and synced to a new 0600 file beside `path` (never an existing one)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, body)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)  # a half-written key file is never left behind
        raise
    os.close(fd)
    return tmp
