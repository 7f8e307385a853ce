"""Configuration: built-in defaults, then a TOML file, then ``KUA_<SECTION>__<KEY>`` variables.

Every problem is reported as a :class:`ConfigError` whose ``str()`` is one line naming the key
and how to fix it, so start-up can print it instead of a traceback. Secrets (token, keys,
database/redis URLs that may carry passwords) are never echoed back in messages or reprs.
"""

from __future__ import annotations

import binascii
import difflib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from bot.keyfile import default_key_file

__all__ = [
    "AppConfig",
    "Config",
    "ConfigError",
    "CoordinationConfig",
    "DatabaseConfig",
    "LimitsConfig",
    "LoggingConfig",
    "NgoConfig",
    "RedisConfig",
    "RetentionConfig",
    "SecurityConfig",
    "TelegramConfig",
    "load_config",
]

ENV_PREFIX = "KUA_"
CONFIG_ENV = "KUA_CONFIG"
DEFAULT_CONFIG_FILE = "config.toml"
DEFAULT_API_BASE = "https://api.telegram.org"
TELEGRAM_MAX_DOWNLOAD_MB = 20  # getFile on the public Bot API refuses anything larger

Mode = Literal["polling", "webhook"]
GroupShows = Literal["summary", "full"]
Locale = Literal["kk", "ru", "en"]

MODES: tuple[str, ...] = ("polling", "webhook")
GROUP_SHOWS: tuple[str, ...] = ("summary", "full")
LOCALES: tuple[str, ...] = ("kk", "ru", "en")
LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A missing or invalid setting. ``key`` is ``section.key`` (or ``KUA_CONFIG``/``config``
    for problems with the file itself); ``str()`` is a single line that says how to fix it."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = " ".join(message.splitlines())
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


# --- typed configuration ------------------------------------------------------------------------
# Lists are tuples so that the dataclasses stay genuinely immutable (and hashable).


@dataclass(frozen=True, slots=True)
class AppConfig:
    data_dir: Path  # absolute
    default_locale: Locale


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str = field(repr=False)
    api_base: str  # no trailing slash, e.g. "https://api.telegram.org"
    mode: Mode
    webhook_url: str
    webhook_secret: str = field(repr=False)
    listen_host: str
    listen_port: int

    @property
    def use_webhook(self) -> bool:
        return self.mode == "webhook"

    @property
    def uses_public_api(self) -> bool:
        return self.api_base == DEFAULT_API_BASE

    @property
    def webhook_path(self) -> str:
        """The path Telegram will POST to (route to register on the local web server)."""
        return urlsplit(self.webhook_url).path or "/"


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str = field(repr=False)  # resolved async URL; may contain a password
    echo: bool

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return make_url(self.url).get_backend_name()

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"


@dataclass(frozen=True, slots=True)
class RedisConfig:
    url: str = field(repr=False)

    @property
    def enabled(self) -> bool:
        return bool(self.url)


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    data_keys: tuple[str, ...] = field(repr=False)  # first encrypts, all decrypt
    hmac_secret: str = field(repr=False)
    key_file: Path  # absolute; ./keys/keys.json (or an existing <data_dir>/keys.json) unless configured

    @property
    def keys_configured(self) -> bool:
        return bool(self.data_keys) and bool(self.hmac_secret)


@dataclass(frozen=True, slots=True)
class CoordinationConfig:
    chat_id: int  # 0 = not configured
    coordinators: tuple[int, ...]
    admins: tuple[int, ...]
    on_call: tuple[int, ...]
    group_shows: GroupShows
    private_view_minutes: int
    remind_after_hours: int
    urgent_ack_minutes: int = 120
    locale: str = ""  # the group's language; "" = app.default_locale

    @property
    def has_group(self) -> bool:
        return self.chat_id != 0


@dataclass(frozen=True, slots=True)
class RetentionConfig:
    draft_days: int
    closed_case_days: int


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    max_files_per_case: int
    max_file_mb: int
    max_text_chars: int
    code_attempts_per_hour: int
    reports_per_day: int
    surge_per_hour: int  # new reports per hour (whole bot) above which the admins are alerted
    flood_updates: int  # updates one account may send within flood_seconds
    flood_seconds: int
    spam_block_days: int = 30
    # Files of types whose metadata cannot be removed: stored, marked, when true; else refused.
    allow_other_types: bool = False

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024


@dataclass(frozen=True, slots=True)
class NgoConfig:
    name: str
    contacts: str
    lawyer: str = ""  # how to reach the organisation's lawyer; empty: no lawyer is promised
    legal_reviewed_on: date | None = None  # a lawyer's review of the rights pages
    legal_reviewed_by: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.name or self.contacts)


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: str  # upper case, a logging level name


@dataclass(frozen=True, slots=True)
class StatsConfig:
    min_cell: int  # figures below this show as "<min_cell"; see services.disclosure


@dataclass(frozen=True, slots=True)
class Config:
    app: AppConfig
    telegram: TelegramConfig
    database: DatabaseConfig
    redis: RedisConfig
    security: SecurityConfig
    coordination: CoordinationConfig
    retention: RetentionConfig
    limits: LimitsConfig
    ngo: NgoConfig
    logging: LoggingConfig
    stats: StatsConfig = StatsConfig(min_cell=5)
    config_file: Path | None = None  # the TOML file that was read, if any

    @property
    def data_dir(self) -> Path:
        return self.app.data_dir


# --- schema ---------------------------------------------------------------------------------------

Kind = Literal["str", "int", "bool", "float", "list[int]", "list[str]"]

SCHEMA: dict[str, dict[str, tuple[Kind, Any]]] = {
    "app": {"data_dir": ("str", "data"), "default_locale": ("str", "ru")},
    "telegram": {
        "token": ("str", ""),
        "api_base": ("str", ""),
        "mode": ("str", "polling"),
        "webhook_url": ("str", ""),
        "webhook_secret": ("str", ""),
        "listen_host": ("str", "127.0.0.1"),
        "listen_port": ("int", 8080),
    },
    "database": {"url": ("str", ""), "echo": ("bool", False)},
    "redis": {"url": ("str", "")},
    "security": {
        "data_keys": ("list[str]", ()),
        "hmac_secret": ("str", ""),
        "key_file": ("str", ""),
    },
    "coordination": {
        "chat_id": ("int", 0),
        "coordinators": ("list[int]", ()),
        "admins": ("list[int]", ()),
        "on_call": ("list[int]", ()),
        "group_shows": ("str", "summary"),
        "private_view_minutes": ("int", 10),
        "remind_after_hours": ("int", 12),
        "urgent_ack_minutes": ("int", 120),
        "locale": ("str", ""),
    },
    "retention": {"draft_days": ("int", 7), "closed_case_days": ("int", 365)},
    "limits": {
        "max_files_per_case": ("int", 10),
        "max_file_mb": ("int", 20),
        "max_text_chars": ("int", 3500),
        "code_attempts_per_hour": ("int", 5),
        "reports_per_day": ("int", 5),
        "spam_block_days": ("int", 30),
        "allow_other_types": ("bool", False),
        "surge_per_hour": ("int", 30),
        "flood_updates": ("int", 20),
        "flood_seconds": ("int", 10),
    },
    "ngo": {
        "name": ("str", ""),
        "contacts": ("str", ""),
        "lawyer": ("str", ""),
        "legal_reviewed_on": ("str", ""),
        "legal_reviewed_by": ("str", ""),
    },
    "logging": {"level": ("str", "INFO")},
    "stats": {"min_cell": ("int", 5)},
}

# Values of these keys never appear in error messages.
SECRET_KEYS = frozenset(
    {
        "telegram.token",
        "telegram.webhook_secret",
        "security.data_keys",
        "security.hmac_secret",
        "database.url",
        "redis.url",
    }
)

_EXPECTED = {
    "str": "a string",
    "int": "an integer",
    "bool": "true or false",
    "float": "a number",
    "list[int]": "a list of integers",
    "list[str]": "a list of strings",
}

_BOOL_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_TOKEN_RE = re.compile(r"^[0-9]+:[A-Za-z0-9_-]+$")
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def env_name(key: str) -> str:
    """``"telegram.token"`` → ``"KUA_TELEGRAM__TOKEN"``."""
    section, _, name = key.partition(".")
    return f"{ENV_PREFIX}{section.upper()}__{name.upper()}"


def _show(value: Any) -> str:
    """A value quoted for a one-line message (JSON-style quotes, long values cut)."""
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _describe_toml(value: Any, secret: bool) -> str:
    if isinstance(value, bool):
        return "a boolean" if secret else ("true" if value else "false")
    if isinstance(value, str):
        return "a string" if secret else f"the string {_show(value)}"
    if isinstance(value, int):
        return "an integer" if secret else f"the integer {value}"
    if isinstance(value, float):
        return "a float" if secret else f"the number {value}"
    if isinstance(value, list):
        return "a list (with an element of the wrong type)"
    if isinstance(value, dict):
        return "a table"
    return f"a TOML {type(value).__name__}"


def _coerce_toml(kind: Kind, value: Any) -> tuple[bool, Any]:
    """(ok, value) for a TOML value of the given kind; lists become tuples."""

    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if kind == "str":
        return isinstance(value, str), value
    if kind == "int":
        return is_int(value), value
    if kind == "bool":
        return isinstance(value, bool), value
    if kind == "float":
        ok = is_int(value) or isinstance(value, float)
        return ok, float(value) if ok else value
    if kind == "list[int]":
        ok = isinstance(value, list) and all(is_int(v) for v in value)
        return ok, tuple(value) if ok else value
    if kind == "list[str]":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return ok, tuple(value) if ok else value
    raise AssertionError(kind)


def _parse_env(kind: Kind, raw: str) -> Any:
    """Parse an environment string by kind; raises ValueError with what was expected."""
    text = raw.strip()
    if kind == "str":
        return raw
    if kind == "int":
        return int(text)
    if kind == "float":
        return float(text)
    if kind == "bool":
        try:
            return _BOOL_WORDS[text.lower()]
        except KeyError:
            raise ValueError(text) from None
    items = [item.strip() for item in raw.split(",")]
    items = [item for item in items if item]  # "" → [], and tolerate "1, 2,"
    if kind == "list[int]":
        return tuple(int(item) for item in items)
    if kind == "list[str]":
        return tuple(items)
    raise AssertionError(kind)


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


class _Loader:
    def __init__(self, environ: Mapping[str, str], cwd: Path) -> None:
        self.environ = environ
        self.cwd = cwd
        self.values: dict[str, Any] = {
            f"{section}.{key}": default
            for section, keys in SCHEMA.items()
            for key, (_kind, default) in keys.items()
        }
        self.sources: dict[str, str] = {}  # key → env var name or "file"
        self.file: Path | None = None

    # -- where a value came from, for "how to fix it" hints ---------------------------------
    @property
    def file_label(self) -> str:
        return str(self.file) if self.file else DEFAULT_CONFIG_FILE

    def how_to_set(self, key: str) -> str:
        section, _, name = key.partition(".")
        return f"set {env_name(key)} or [{section}] {name} in {self.file_label}"

    def where(self, key: str) -> str:
        source = self.sources.get(key)
        if source is None:
            return self.how_to_set(key)
        if source == "file":
            section, _, name = key.partition(".")
            return f"[{section}] {name} in {self.file_label}"
        return source

    def fail(self, key: str, problem: str, value: Any = None, *, show_value: bool = True) -> ConfigError:
        """``<key> <problem>, got <value> (<where>)``; the value is omitted for secrets."""
        got = ""
        if show_value and key not in SECRET_KEYS:
            got = f", got {_show(value)}"
        return ConfigError(key, f"{key} {problem}{got} ({self.where(key)})")

    # -- sources ------------------------------------------------------------------------------
    def find_file(self) -> Path | None:
        named = self.environ.get(CONFIG_ENV, "")
        if named:
            path = Path(named).expanduser()
            if not path.is_absolute():
                path = self.cwd / path
            if not path.is_file():
                raise ConfigError(
                    CONFIG_ENV,
                    f"{CONFIG_ENV} names {path}, which does not exist or is not a file: "
                    f"fix {CONFIG_ENV} or create the file (start from config.example.toml)",
                )
            return path
        path = self.cwd / DEFAULT_CONFIG_FILE
        return path if path.is_file() else None

    def read_file(self, path: Path) -> None:
        self.file = path
        key = CONFIG_ENV if self.environ.get(CONFIG_ENV) else "config"
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(
                key, f"cannot read {path}: {exc.strerror or exc}: check the file and its permissions"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("config", f"{path} is not valid TOML: {exc}") from None

        for section, table in data.items():
            if section not in SCHEMA:
                raise ConfigError(
                    "config",
                    f"unknown section [{section}] in {path}"
                    f"{_suggest(f'[{section}]', [f'[{name}]' for name in SCHEMA])}; "
                    f"known sections: {', '.join(SCHEMA)}",
                )
            if not isinstance(table, dict):
                raise ConfigError(
                    "config",
                    f"{section} must be a [{section}] table in {path}, got {_describe_toml(table, True)}",
                )
            for name, value in table.items():
                key = f"{section}.{name}"
                if name not in SCHEMA[section]:
                    raise ConfigError(
                        key,
                        f"unknown setting {name!r} in [{section}] of {path}"
                        f"{_suggest(name, list(SCHEMA[section]))}; "
                        f"known: {', '.join(SCHEMA[section])}",
                    )
                kind = SCHEMA[section][name][0]
                ok, coerced = _coerce_toml(kind, value)
                self.sources[key] = "file"
                if not ok:
                    raise ConfigError(
                        key,
                        f"{key} must be {_EXPECTED[kind]}, got "
                        f"{_describe_toml(value, key in SECRET_KEYS)} ({self.where(key)})",
                    )
                self.values[key] = coerced

    def read_env(self) -> None:
        for var in sorted(self.environ):
            if not var.startswith(ENV_PREFIX) or "__" not in var:
                continue  # KUA_CONFIG, KUA_TEST_DATABASE_URL, ... are not settings
            section, _, name = var[len(ENV_PREFIX) :].partition("__")
            section, name = section.lower(), name.lower()
            if section not in SCHEMA or name not in SCHEMA[section]:
                known = [env_name(f"{s}.{k}") for s, keys in SCHEMA.items() for k in keys]
                raise ConfigError(
                    f"{section}.{name}",
                    f"{var} is not a known setting{_suggest(var, known)}: unset it or fix the name",
                )
            key = f"{section}.{name}"
            kind = SCHEMA[section][name][0]
            self.sources[key] = var
            try:
                self.values[key] = _parse_env(kind, self.environ[var])
            except ValueError:
                extra = " (comma-separated)" if kind.startswith("list") else ""
                if kind == "bool":
                    extra = " (true/false/1/0/yes/no)"
                raise self.fail(key, f"must be {_EXPECTED[kind]}{extra}", self.environ[var]) from None

    # -- validation -----------------------------------------------------------------------------
    def choice(self, key: str, options: tuple[str, ...], *, upper: bool = False) -> str:
        raw: str = self.values[key]
        value = raw.strip().upper() if upper else raw.strip().lower()
        if value not in options:
            wanted = (
                " or ".join(f'"{o}"' for o in options)
                if len(options) == 2
                else "one of " + ", ".join(f'"{o}"' for o in options)
            )
            raise self.fail(key, f"must be {wanted}", raw)
        return value

    def int_range(self, key: str, low: int, high: int | None = None, hint: str = "") -> int:
        value = self.values[key]
        if value < low or (high is not None and value > high):
            bound = (
                f"between {low} and {high}"
                if high is not None
                else ("a positive integer" if low == 1 else f"at least {low}")
            )
            raise self.fail(key, f"must be {bound}{hint}", value)
        return int(value)

    def path(self, value: str) -> Path:
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = self.cwd / path
        return Path(os.path.normpath(path))

    def http_url(self, key: str, *, local_http_only: bool) -> str:
        raw: str = self.values[key].strip()
        try:
            parts = urlsplit(raw)
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise self.fail(key, "must be an http(s) URL", raw) from None
        if parts.scheme not in ("http", "https") or not host:
            raise self.fail(key, "must be an http(s) URL like https://example.org/path", raw)
        if local_http_only and parts.scheme == "http" and host not in _LOCAL_HOSTS:
            raise self.fail(
                key,
                "must use https (Telegram only delivers webhooks over https; "
                "http is allowed for 127.0.0.1/localhost only)",
                raw,
            )
        return raw

    def build(self, *, require_token: bool = True) -> Config:
        v = self.values

        # app
        if not v["app.data_dir"].strip():
            raise self.fail("app.data_dir", "must not be empty", v["app.data_dir"])
        data_dir = self.path(v["app.data_dir"])
        locale = cast(Locale, self.choice("app.default_locale", LOCALES))

        # telegram
        token = v["telegram.token"].strip()
        if not token and require_token:
            raise ConfigError(
                "telegram.token",
                f"telegram.token is missing: {self.how_to_set('telegram.token')} (get one from @BotFather)",
            )
        if token and not _TOKEN_RE.match(token):
            raise self.fail(
                "telegram.token",
                "does not look like a bot token (<digits>:<letters>, as given by @BotFather)",
            )
        api_base = DEFAULT_API_BASE
        if v["telegram.api_base"].strip():
            api_base = self.http_url("telegram.api_base", local_http_only=False).rstrip("/")
        mode = cast(Mode, self.choice("telegram.mode", MODES))
        webhook_url = ""
        if v["telegram.webhook_url"].strip():
            webhook_url = self.http_url("telegram.webhook_url", local_http_only=True)
        webhook_secret = v["telegram.webhook_secret"]
        if webhook_secret and not _WEBHOOK_SECRET_RE.match(webhook_secret):
            raise self.fail(
                "telegram.webhook_secret",
                "must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)",
            )
        if mode == "webhook":
            for key, what in (
                ("telegram.webhook_url", "the public https URL Telegram posts to"),
                ("telegram.webhook_secret", "a random string of A-Za-z0-9_-"),
            ):
                if not v[key].strip():
                    raise ConfigError(
                        key,
                        f'{key} is required when telegram.mode is "webhook" ({what}): {self.how_to_set(key)}',
                    )
        listen_host = v["telegram.listen_host"].strip()
        if not listen_host:
            raise self.fail("telegram.listen_host", "must not be empty", v["telegram.listen_host"])
        listen_port = self.int_range("telegram.listen_port", 1, 65535)

        # database, redis
        database_url = self.database_url(data_dir)
        redis_url = v["redis.url"].strip()
        if redis_url and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
            raise self.fail("redis.url", "must be a redis://, rediss:// or unix:// URL")

        # security
        data_keys = tuple(k.strip() for k in v["security.data_keys"])
        for i, k in enumerate(data_keys):
            try:
                Fernet(k)
            except (ValueError, TypeError, binascii.Error):
                raise ConfigError(
                    "security.data_keys",
                    f"security.data_keys[{i}] is not a valid Fernet key (32 url-safe base64 bytes; "
                    f'generate one with: python -c "from cryptography.fernet import Fernet; '
                    f'print(Fernet.generate_key().decode())") ({self.where("security.data_keys")})',
                ) from None
        hmac_secret = v["security.hmac_secret"]
        if hmac_secret and len(hmac_secret) < 32:
            raise self.fail(
                "security.hmac_secret", "must be at least 32 characters (or empty to use the key file)"
            )
        key_file = (
            self.path(v["security.key_file"])
            if v["security.key_file"].strip()
            else default_key_file(self.cwd, data_dir)
        )

        # coordination
        for key in ("coordination.coordinators", "coordination.admins", "coordination.on_call"):
            bad = [uid for uid in v[key] if uid <= 0]
            if bad:
                raise self.fail(
                    key,
                    "must list positive Telegram user ids (a group id is negative: "
                    "put it in coordination.chat_id)",
                    bad[0],
                )
        group_shows = cast(GroupShows, self.choice("coordination.group_shows", GROUP_SHOWS))
        group_locale = self.choice("coordination.locale", LOCALES) if v["coordination.locale"].strip() else ""

        return Config(
            app=AppConfig(data_dir=data_dir, default_locale=locale),
            telegram=TelegramConfig(
                token=token,
                api_base=api_base,
                mode=mode,
                webhook_url=webhook_url,
                webhook_secret=webhook_secret,
                listen_host=listen_host,
                listen_port=listen_port,
            ),
            database=DatabaseConfig(url=database_url, echo=v["database.echo"]),
            redis=RedisConfig(url=redis_url),
            security=SecurityConfig(data_keys=data_keys, hmac_secret=hmac_secret, key_file=key_file),
            coordination=CoordinationConfig(
                chat_id=v["coordination.chat_id"],
                coordinators=tuple(v["coordination.coordinators"]),
                admins=tuple(v["coordination.admins"]),
                on_call=tuple(v["coordination.on_call"]),
                group_shows=group_shows,
                private_view_minutes=self.int_range("coordination.private_view_minutes", 1),
                remind_after_hours=self.int_range("coordination.remind_after_hours", 1),
                urgent_ack_minutes=self.int_range("coordination.urgent_ack_minutes", 1),
                locale=group_locale,
            ),
            retention=RetentionConfig(
                draft_days=self.int_range("retention.draft_days", 1),
                closed_case_days=self.int_range("retention.closed_case_days", 1),
            ),
            limits=LimitsConfig(
                max_files_per_case=self.int_range("limits.max_files_per_case", 1),
                max_file_mb=self.int_range(
                    "limits.max_file_mb",
                    1,
                    TELEGRAM_MAX_DOWNLOAD_MB,
                    " (Telegram does not let bots download larger files)",
                ),
                max_text_chars=self.int_range("limits.max_text_chars", 1),
                code_attempts_per_hour=self.int_range("limits.code_attempts_per_hour", 1),
                reports_per_day=self.int_range("limits.reports_per_day", 1),
                spam_block_days=self.int_range("limits.spam_block_days", 0),
                allow_other_types=v["limits.allow_other_types"],
                surge_per_hour=self.int_range("limits.surge_per_hour", 1),
                flood_updates=self.int_range("limits.flood_updates", 1),
                flood_seconds=self.int_range("limits.flood_seconds", 1),
            ),
            ngo=self.ngo(),
            logging=LoggingConfig(level=self.logging_level()),
            stats=StatsConfig(
                min_cell=self.int_range("stats.min_cell", 2, None, " (1 would publish single cases)")
            ),
            config_file=self.file,
        )

    def ngo(self) -> NgoConfig:
        v = self.values
        reviewed_on: date | None = None
        raw = v["ngo.legal_reviewed_on"].strip()
        if raw:
            try:
                reviewed_on = date.fromisoformat(raw)
            except ValueError:
                raise self.fail("ngo.legal_reviewed_on", "must be a date written YYYY-MM-DD", raw) from None
        reviewed_by = v["ngo.legal_reviewed_by"].strip()
        if reviewed_on and not reviewed_by:
            raise ConfigError(
                "ngo.legal_reviewed_by",
                "ngo.legal_reviewed_by must name the lawyer "
                "who reviewed the rights pages when ngo.legal_reviewed_on is set ("
                + self.how_to_set("ngo.legal_reviewed_by")
                + ")",
            )
        return NgoConfig(
            name=v["ngo.name"].strip(),
            contacts=v["ngo.contacts"].strip(),
            lawyer=v["ngo.lawyer"].strip(),
            legal_reviewed_on=reviewed_on,
            legal_reviewed_by=reviewed_by,
        )

    def logging_level(self) -> str:
        if self.values["logging.level"].strip().upper() == "WARN":
            return "WARNING"
        return self.choice("logging.level", LOG_LEVELS, upper=True)

    def database_url(self, data_dir: Path) -> str:
        key = "database.url"
        raw = self.values[key].strip()
        if not raw:
            return URL.create("sqlite+aiosqlite", database=str(data_dir / "kua.sqlite3")).render_as_string()
        try:
            url = make_url(raw)
        except (ArgumentError, ValueError):
            raise self.fail(
                key,
                "is not a valid database URL (expected e.g. "
                "postgresql+asyncpg://user:password@host/db or "
                "sqlite+aiosqlite:////abs/path/kua.sqlite3)",
            ) from None
        # Sync driver names are rewritten to the async driver we ship; anything else is refused
        # rather than failing later with an obscure "is not async" error.
        driver = {
            "postgres": "postgresql+asyncpg",
            "postgresql": "postgresql+asyncpg",
            "postgresql+asyncpg": "postgresql+asyncpg",
            "sqlite": "sqlite+aiosqlite",
            "sqlite+aiosqlite": "sqlite+aiosqlite",
        }.get(url.drivername)
        if driver is None:
            raise ConfigError(
                key,
                f"{key} uses the driver {url.drivername!r}, which is not supported: use "
                f"postgresql+asyncpg://... or sqlite+aiosqlite:///... ({self.where(key)})",
            )
        if driver == "sqlite+aiosqlite":
            db = url.database or ""
            # Relative SQLite paths resolve against the same directory as data_dir, not
            # wherever the process happens to start.
            if db and db != ":memory:" and not db.startswith("file:") and not Path(db).is_absolute():
                url = url.set(drivername=driver, database=str(self.path(db)))
                return url.render_as_string(hide_password=False)
        # Otherwise only the scheme changes; keep the rest verbatim (rendering would re-quote it).
        return f"{driver}://{raw.partition('://')[2]}"


def load_config(
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    *,
    require_token: bool = True,
) -> Config:
    """Load and validate the configuration; raises :class:`ConfigError` on any problem.

    ``require_token=False`` is for tools that never talk to Telegram (migrations).

    ``environ`` defaults to ``os.environ`` and ``cwd`` to the current directory; relative paths
    (``app.data_dir``, ``security.key_file``, ``KUA_CONFIG``, SQLite files) resolve against ``cwd``.
    """
    loader = _Loader(os.environ if environ is None else environ, (cwd or Path.cwd()).absolute())
    path = loader.find_file()
    if path is not None:
        loader.read_file(path)
    loader.read_env()
    return loader.build(require_token=require_token)
