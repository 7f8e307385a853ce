"""Configuration, declared once: one pydantic model per TOML table, loaded by pydantic-settings.

Sources, weakest first: the defaults written on the fields below, the TOML file (``KUA_CONFIG``,
else ``./config.toml``), then ``KUA_<SECTION>__<KEY>`` variables. A field's type and default say
everything else: how a TOML value is type-checked, how a variable is parsed (comma-separated
lists, true/false/1/0/yes/no), whether its value may be echoed (``SecretStr`` and ``repr=False``
fields never are), and which keys ``config.example.toml`` must document (``SCHEMA``).

Every problem is reported as a :class:`ConfigError` whose ``str()`` is one line naming the key
and how to fix it, so start-up can print it instead of a traceback.
"""

from __future__ import annotations

import binascii
import difflib
import json
import os
import re
import tomllib
import types
import typing
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from bot.keyfile import default_key_file
from domain.errors import ConfigError

__all__ = [
    "SCHEMA",
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
    "StatsConfig",
    "TelegramConfig",
    "env_name",
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
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

MODES: tuple[str, ...] = get_args(Mode)
GROUP_SHOWS: tuple[str, ...] = get_args(GroupShows)
LOCALES: tuple[str, ...] = get_args(Locale)
LOG_LEVELS: tuple[str, ...] = get_args(LogLevel)

_TOKEN_RE = re.compile(r"^[0-9]+:[A-Za-z0-9_-]+$")
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def env_name(key: str) -> str:
    """``"telegram.token"`` → ``"KUA_TELEGRAM__TOKEN"``."""
    section, _, name = key.partition(".")
    return f"{ENV_PREFIX}{section.upper()}__{name.upper()}"


# --- where a value came from, for "how to fix it" hints ------------------------------------------


@dataclass
class _Loading:
    """The one load in progress: its sources and the directory relative paths resolve against."""

    environ: Mapping[str, str] = field(default_factory=dict)
    cwd: Path = field(default_factory=Path.cwd)
    file: Path | None = None
    require_token: bool = False
    sources: dict[str, str] = field(default_factory=dict)  # key → env var name or "file"
    data_dir: Path | None = None  # app.data_dir once validated (the key file's default needs it)

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
        got = f", got {_show(value)}" if show_value and key not in SECRET_KEYS else ""
        return ConfigError(key, f"{key} {problem}{got} ({self.where(key)})")

    def path(self, value: str | Path) -> Path:
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = self.cwd / path
        return Path(os.path.normpath(path))


_LOADING: ContextVar[_Loading | None] = ContextVar("kua_config_loading", default=None)


def _now() -> _Loading:
    """The load in progress; outside :func:`load_config` (a test building one section), a neutral one."""
    return _LOADING.get() or _Loading()


def _show(value: Any) -> str:
    """A value quoted for a one-line message (JSON-style quotes, long values cut)."""
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _key(info: ValidationInfo) -> str:
    return f"{(info.config or {}).get('title')}.{info.field_name}"


# --- reusable field rules (each raises a ready ConfigError) -------------------------------------


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


Text = Annotated[str, BeforeValidator(_strip)]


def _choice(
    options: tuple[str, ...],
    *,
    upper: bool = False,
    aliases: Mapping[str, str] | None = None,
    blank_ok: bool = False,
) -> Any:
    def check(value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        normal = value.strip().upper() if upper else value.strip().lower()
        normal = (aliases or {}).get(normal, normal)
        if normal not in options and not (blank_ok and not normal):
            wanted = (
                " or ".join(f'"{o}"' for o in options)
                if len(options) == 2
                else "one of " + ", ".join(f'"{o}"' for o in options)
            )
            raise _now().fail(_key(info), f"must be {wanted}", value)
        return normal

    return BeforeValidator(check)


def _range(low: int, high: int | None = None, hint: str = "") -> Any:
    def check(value: int, info: ValidationInfo) -> int:
        if value < low or (high is not None and value > high):
            bound = (
                f"between {low} and {high}"
                if high is not None
                else ("a positive integer" if low == 1 else f"at least {low}")
            )
            raise _now().fail(_key(info), f"must be {bound}{hint}", value)
        return value

    return AfterValidator(check)


Positive = Annotated[int, _range(1)]


def _not_empty(value: str, info: ValidationInfo) -> str:
    if not value:
        raise _now().fail(_key(info), "must not be empty", value)
    return value


def _http_url(*, local_http_only: bool) -> Any:
    def check(raw: str, info: ValidationInfo) -> str:
        if not raw:
            return raw
        key = _key(info)
        try:
            parts = urlsplit(raw)
            host = parts.hostname
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            raise _now().fail(key, "must be an http(s) URL", raw) from None
        if parts.scheme not in ("http", "https") or not host:
            raise _now().fail(key, "must be an http(s) URL like https://example.org/path", raw)
        if local_http_only and parts.scheme == "http" and host not in _LOCAL_HOSTS:
            raise _now().fail(
                key,
                "must use https (Telegram only delivers webhooks over https; "
                "http is allowed for 127.0.0.1/localhost only)",
                raw,
            )
        return raw

    return AfterValidator(check)


def _user_ids(value: tuple[int, ...], info: ValidationInfo) -> tuple[int, ...]:
    bad = [uid for uid in value if uid <= 0]
    if bad:
        raise _now().fail(
            _key(info),
            "must list positive Telegram user ids (a group id is negative: put it in coordination.chat_id)",
            bad[0],
        )
    return value


UserIds = Annotated[tuple[int, ...], AfterValidator(_user_ids)]


# --- typed configuration: one model per TOML table ----------------------------------------------


class _Section(BaseModel):
    """One TOML table. ``title`` is the table's name (used in messages); instances are frozen."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class AppConfig(_Section, title="app"):
    data_dir: Path = Path("data")
    default_locale: Annotated[Locale, _choice(LOCALES)] = "ru"

    @field_validator("data_dir", mode="before")
    @classmethod
    def _empty_is_not_here(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and not value.strip():
            raise _now().fail(_key(info), "must not be empty", value)
        return _strip(value)

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:  # relative to the start directory
        return _now().path(value)


def _bot_token(value: SecretStr, info: ValidationInfo) -> SecretStr:
    token = value.get_secret_value().strip()
    if token and not _TOKEN_RE.match(token):
        raise _now().fail(
            _key(info), "does not look like a bot token (<digits>:<letters>, as given by @BotFather)"
        )
    return SecretStr(token)


def _webhook_secret(value: SecretStr, info: ValidationInfo) -> SecretStr:
    secret = value.get_secret_value()
    if secret and not _WEBHOOK_SECRET_RE.match(secret):
        raise _now().fail(_key(info), "must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
    return value


class TelegramConfig(_Section, title="telegram"):
    token: Annotated[SecretStr, AfterValidator(_bot_token)] = SecretStr("")
    api_base: Annotated[Text, _http_url(local_http_only=False)] = ""  # "" = the public Bot API
    mode: Annotated[Mode, _choice(MODES)] = "polling"
    webhook_url: Annotated[Text, _http_url(local_http_only=True)] = ""
    webhook_secret: Annotated[SecretStr, AfterValidator(_webhook_secret)] = SecretStr("")
    listen_host: Annotated[Text, AfterValidator(_not_empty)] = "127.0.0.1"
    listen_port: Annotated[int, _range(1, 65535)] = 8080

    @field_validator("api_base")
    @classmethod
    def _default_api(cls, value: str) -> str:  # no trailing slash, e.g. "https://api.telegram.org"
        return value.rstrip("/") if value else DEFAULT_API_BASE

    @model_validator(mode="after")
    def _required(self) -> TelegramConfig:
        now = _now()
        if now.require_token and not self.token.get_secret_value():
            raise ConfigError(
                "telegram.token",
                f"telegram.token is missing: {now.how_to_set('telegram.token')} (get one from @BotFather)",
            )
        if self.mode == "webhook":
            for key, value, what in (
                ("telegram.webhook_url", self.webhook_url, "the public https URL Telegram posts to"),
                (
                    "telegram.webhook_secret",
                    self.webhook_secret.get_secret_value(),
                    "a random string of A-Za-z0-9_-",
                ),
            ):
                if not value.strip():
                    raise ConfigError(
                        key,
                        f'{key} is required when telegram.mode is "webhook" ({what}): {now.how_to_set(key)}',
                    )
        return self

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


class DatabaseConfig(_Section, title="database"):
    # The resolved async URL ("" = data_dir/kua.sqlite3, see Config); may contain a password.
    url: Text = Field("", repr=False)
    echo: bool = False

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return make_url(self.url).get_backend_name()

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"


def _redis_url(value: str, info: ValidationInfo) -> str:
    if value and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
        raise _now().fail(_key(info), "must be a redis://, rediss:// or unix:// URL")
    return value


class RedisConfig(_Section, title="redis"):
    url: Annotated[Text, AfterValidator(_redis_url)] = Field("", repr=False)

    @property
    def enabled(self) -> bool:
        return bool(self.url)


def _fernet_keys(value: tuple[SecretStr, ...], info: ValidationInfo) -> tuple[SecretStr, ...]:
    keys = tuple(SecretStr(k.get_secret_value().strip()) for k in value)
    for i, k in enumerate(keys):
        try:
            Fernet(k.get_secret_value())
        except (ValueError, TypeError, binascii.Error):
            raise ConfigError(
                "security.data_keys",
                f"security.data_keys[{i}] is not a valid Fernet key (32 url-safe base64 bytes; "
                f'generate one with: python -c "from cryptography.fernet import Fernet; '
                f'print(Fernet.generate_key().decode())") ({_now().where("security.data_keys")})',
            ) from None
    return keys


def _hmac_secret(value: SecretStr, info: ValidationInfo) -> SecretStr:
    if value.get_secret_value() and len(value.get_secret_value()) < 32:
        raise _now().fail(_key(info), "must be at least 32 characters (or empty to use the key file)")
    return value


class SecurityConfig(_Section, title="security"):
    data_keys: Annotated[tuple[SecretStr, ...], AfterValidator(_fernet_keys)] = ()  # first encrypts
    hmac_secret: Annotated[SecretStr, AfterValidator(_hmac_secret)] = SecretStr("")
    # Absolute; "" = ./keys/keys.json (or an existing <data_dir>/keys.json: bot.keyfile).
    key_file: Path = Path()

    @field_validator("key_file", mode="before")
    @classmethod
    def _absolute(cls, value: Any) -> Path:
        now = _now()
        if value is None or not str(value).strip() or Path(str(value).strip()) == Path():
            return default_key_file(now.cwd, now.data_dir or now.path("data"))
        return now.path(str(value).strip())

    @property
    def keys_configured(self) -> bool:
        return bool(self.data_keys) and bool(self.hmac_secret.get_secret_value())


class CoordinationConfig(_Section, title="coordination"):
    chat_id: int = 0  # 0 = not configured
    coordinators: UserIds = ()
    admins: UserIds = ()
    on_call: UserIds = ()
    group_shows: Annotated[GroupShows, _choice(GROUP_SHOWS)] = "summary"
    private_view_minutes: Positive = 10
    remind_after_hours: Positive = 12
    urgent_ack_minutes: Positive = 120
    # The group's language; "" = app.default_locale.
    locale: Annotated[Literal["", "kk", "ru", "en"], _choice(LOCALES, blank_ok=True)] = ""

    @property
    def has_group(self) -> bool:
        return self.chat_id != 0


class RetentionConfig(_Section, title="retention"):
    draft_days: Positive = 7
    closed_case_days: Positive = 365


class LimitsConfig(_Section, title="limits"):
    max_files_per_case: Positive = 10
    max_file_mb: Annotated[
        int, _range(1, TELEGRAM_MAX_DOWNLOAD_MB, " (Telegram does not let bots download larger files)")
    ] = 20
    max_text_chars: Positive = 3500
    code_attempts_per_hour: Positive = 5
    reports_per_day: Positive = 5
    spam_block_days: Annotated[int, _range(0)] = 30
    # Files of types whose metadata cannot be removed: stored, marked, when true; else refused.
    allow_other_types: bool = False
    surge_per_hour: Positive = 30  # new reports per hour (whole bot) above which the admins are alerted
    flood_updates: Positive = 20  # updates one account may send within flood_seconds
    flood_seconds: Positive = 10

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024


def _iso_date(value: Any, info: ValidationInfo) -> Any:
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise _now().fail(_key(info), "must be a date written YYYY-MM-DD", value) from None


class NgoConfig(_Section, title="ngo"):
    name: Text = ""
    contacts: Text = ""
    lawyer: Text = ""  # how to reach the organisation's lawyer; empty: no lawyer is promised
    legal_reviewed_on: Annotated[date | None, BeforeValidator(_iso_date)] = None  # review of the rights pages
    legal_reviewed_by: Text = ""

    @model_validator(mode="after")
    def _reviewer_named(self) -> NgoConfig:
        if self.legal_reviewed_on and not self.legal_reviewed_by:
            raise ConfigError(
                "ngo.legal_reviewed_by",
                "ngo.legal_reviewed_by must name the lawyer who reviewed the rights pages when "
                f"ngo.legal_reviewed_on is set ({_now().how_to_set('ngo.legal_reviewed_by')})",
            )
        return self

    @property
    def configured(self) -> bool:
        return bool(self.name or self.contacts)


class LoggingConfig(_Section, title="logging"):
    level: Annotated[LogLevel, _choice(LOG_LEVELS, upper=True, aliases={"WARN": "WARNING"})] = "INFO"


class StatsConfig(_Section, title="stats"):
    # Figures below this show as "<min_cell"; see services.disclosure.
    min_cell: Annotated[int, _range(2, None, " (1 would publish single cases)")] = 5


# --- the sources: a TOML file and KUA_<SECTION>__<KEY> variables --------------------------------

Kind = Literal["str", "int", "bool", "list[int]", "list[str]"]

_EXPECTED: dict[Kind, str] = {
    "str": "a string",
    "int": "an integer",
    "bool": "true or false",
    "list[int]": "a list of integers",
    "list[str]": "a list of strings",
}
_BOOL_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _kind(annotation: Any) -> Kind:
    """How a field is written in TOML and in a variable, read off its type."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
        origin = get_origin(annotation)
    if origin is tuple:
        return "list[int]" if _kind(get_args(annotation)[0]) == "int" else "list[str]"
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    return "str"  # str, SecretStr, Path, date, Literal[...]


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


def _toml_ok(kind: Kind, value: Any) -> bool:
    def is_int(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return is_int(value)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list[int]":
        return isinstance(value, list) and all(is_int(v) for v in value)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _parse_env(kind: Kind, raw: str) -> Any:
    """Parse an environment string by kind; raises ValueError with what was expected."""
    text = raw.strip()
    if kind == "str":
        return raw
    if kind == "int":
        return int(text)
    if kind == "bool":
        try:
            return _BOOL_WORDS[text.lower()]
        except KeyError:
            raise ValueError(text) from None
    items = [item.strip() for item in raw.split(",")]
    items = [item for item in items if item]  # "" → [], and tolerate "1, 2,"
    return tuple(int(item) for item in items) if kind == "list[int]" else tuple(items)


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


class _TomlSource(PydanticBaseSettingsSource):
    """The TOML file: unknown tables and keys are refused, values must have the field's TOML type."""

    def __init__(self, settings_cls: type[BaseSettings], loading: _Loading) -> None:
        super().__init__(settings_cls)
        self.loading = loading

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads the whole file at once

    def __call__(self) -> dict[str, Any]:
        path, loading = self.loading.file, self.loading
        if path is None:
            return {}
        key = CONFIG_ENV if loading.environ.get(CONFIG_ENV) else "config"
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
                setting = f"{section}.{name}"
                if name not in SCHEMA[section]:
                    raise ConfigError(
                        setting,
                        f"unknown setting {name!r} in [{section}] of {path}"
                        f"{_suggest(name, list(SCHEMA[section]))}; "
                        f"known: {', '.join(SCHEMA[section])}",
                    )
                kind = SCHEMA[section][name][0]
                loading.sources.setdefault(setting, "file")  # a variable, read first, wins
                if not _toml_ok(kind, value):
                    raise ConfigError(
                        setting,
                        f"{setting} must be {_EXPECTED[kind]}, got "
                        f"{_describe_toml(value, setting in SECRET_KEYS)} ([{section}] {name} in {path})",
                    )
        return data


class _EnvSource(PydanticBaseSettingsSource):
    """``KUA_<SECTION>__<KEY>`` variables (upper case only); other ``KUA_*`` names are not settings."""

    def __init__(self, settings_cls: type[BaseSettings], loading: _Loading) -> None:
        super().__init__(settings_cls)
        self.loading = loading

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads every variable at once

    def __call__(self) -> dict[str, Any]:
        environ, data = self.loading.environ, dict[str, dict[str, Any]]()
        for var in sorted(environ):
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
            self.loading.sources[key] = var
            try:
                data.setdefault(section, {})[name] = _parse_env(kind, environ[var])
            except ValueError:
                extra = " (comma-separated)" if kind.startswith("list") else ""
                if kind == "bool":
                    extra = " (true/false/1/0/yes/no)"
                raise self.loading.fail(key, f"must be {_EXPECTED[kind]}{extra}", environ[var]) from None
        return data


# --- the whole configuration ---------------------------------------------------------------------


class Config(BaseSettings):
    """Every setting, one field per TOML table. Build it with :func:`load_config`."""

    # Sections default to a factory, so that a section absent from every source is still
    # built during this load (relative paths, the token check).
    model_config = SettingsConfigDict(frozen=True, extra="forbid", validate_default=True)

    app: AppConfig = Field(default_factory=AppConfig)
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    redis: RedisConfig = Field(default_factory=RedisConfig)
    security: SecurityConfig = Field(default_factory=SecurityConfig)
    coordination: CoordinationConfig = Field(default_factory=CoordinationConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    ngo: NgoConfig = Field(default_factory=NgoConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    stats: StatsConfig = Field(default_factory=StatsConfig)
    config_file: Path | None = Field(None, exclude=True)  # the TOML file that was read, if any

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        loading = _now()
        # The first source wins: variables, then the file, then the fields' defaults.
        return (_EnvSource(settings_cls, loading), _TomlSource(settings_cls, loading))

    @field_validator("database")
    @classmethod
    def _database_url(cls, value: DatabaseConfig, info: ValidationInfo) -> DatabaseConfig:
        app = info.data.get("app")
        if app is None:
            return value
        return value.model_copy(update={"url": _resolve_database_url(value.url, app.data_dir)})

    @field_validator("app")
    @classmethod
    def _data_dir_known(cls, value: AppConfig) -> AppConfig:
        _now().data_dir = value.data_dir  # for security.key_file's default, validated later
        return value

    @field_validator("config_file", mode="before")
    @classmethod
    def _file_read(cls, value: Any) -> Path | None:
        return _now().file

    @property
    def data_dir(self) -> Path:
        return self.app.data_dir


def _resolve_database_url(raw: str, data_dir: Path) -> str:
    key, now = "database.url", _now()
    if not raw:
        return URL.create("sqlite+aiosqlite", database=str(data_dir / "kua.sqlite3")).render_as_string()
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise now.fail(
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
            f"postgresql+asyncpg://... or sqlite+aiosqlite:///... ({now.where(key)})",
        )
    if driver == "sqlite+aiosqlite":
        db = url.database or ""
        # Relative SQLite paths resolve against the start directory, like data_dir, not
        # wherever the process happens to be later.
        if db and db != ":memory:" and not db.startswith("file:") and not Path(db).is_absolute():
            url = url.set(drivername=driver, database=str(now.path(db)))
            return url.render_as_string(hide_password=False)
    # Otherwise only the scheme changes; keep the rest verbatim (rendering would re-quote it).
    return f"{driver}://{raw.partition('://')[2]}"


def _sections() -> Iterator[tuple[str, type[_Section]]]:
    for name, info in Config.model_fields.items():
        if isinstance(info.annotation, type) and issubclass(info.annotation, _Section):
            yield name, info.annotation


def _is_secret(info: FieldInfo) -> bool:
    return not info.repr or "SecretStr" in repr(info.annotation) or "SecretStr" in repr(info.metadata)


# Read off the models above: section → key → (kind, default). config.example.toml documents all.
SCHEMA: dict[str, dict[str, tuple[Kind, Any]]] = {
    section: {
        name: (_kind(info.rebuild_annotation()), info.default) for name, info in model.model_fields.items()
    }
    for section, model in _sections()
}
# Values of these keys never appear in error messages.
SECRET_KEYS = frozenset(
    f"{section}.{name}"
    for section, model in _sections()
    for name, info in model.model_fields.items()
    if _is_secret(info)
)


@contextmanager
def _loading(loading: _Loading) -> Iterator[None]:
    token = _LOADING.set(loading)
    try:
        yield
    finally:
        _LOADING.reset(token)


def _find_file(environ: Mapping[str, str], cwd: Path) -> Path | None:
    named = environ.get(CONFIG_ENV, "")
    if named:
        path = Path(named).expanduser()
        if not path.is_absolute():
            path = cwd / path
        if not path.is_file():
            raise ConfigError(
                CONFIG_ENV,
                f"{CONFIG_ENV} names {path}, which does not exist or is not a file: "
                f"fix {CONFIG_ENV} or create the file (start from config.example.toml)",
            )
        return path
    path = cwd / DEFAULT_CONFIG_FILE
    return path if path.is_file() else None


def _one_line(error: ValidationError, loading: _Loading) -> ConfigError:
    """A problem no field rule worded (should not happen: the sources check types first)."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"][:2])
    return loading.fail(key, first["msg"].lower(), first.get("input"))


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
    env = os.environ if environ is None else environ
    where = (cwd or Path.cwd()).absolute()
    loading = _Loading(environ=env, cwd=where, file=_find_file(env, where), require_token=require_token)
    with _loading(loading):
        try:
            return Config()
        except ValidationError as exc:
            raise _one_line(exc, loading) from None
