from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError

from bot.config import SCHEMA, Config, ConfigError, env_name, load_config

REPO = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAHk-secret_TOKEN_value"
BASE = {"KUA_TELEGRAM__TOKEN": TOKEN}


def plain(value: SecretStr | tuple[SecretStr, ...]) -> str | tuple[str, ...]:
    """A secret's value (secrets are ``SecretStr``, so that no repr or log shows them)."""
    if isinstance(value, tuple):
        return tuple(v.get_secret_value() for v in value)
    return value.get_secret_value()


def load(tmp_path: Path, env: dict[str, str] | None = None, toml: str | None = None) -> Config:
    if toml is not None:
        (tmp_path / "config.toml").write_text(toml, encoding="utf-8")
    return load_config({**BASE, **(env or {})}, tmp_path)


def error(
    tmp_path: Path,
    env: dict[str, str] | None = None,
    toml: str | None = None,
    *,
    base: dict[str, str] | None = None,
) -> ConfigError:
    if toml is not None:
        (tmp_path / "config.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config({**(BASE if base is None else base), **(env or {})}, tmp_path)
    message = str(info.value)
    assert "\n" not in message and message.strip() == message
    assert "Traceback" not in message
    return info.value


# --- defaults and sources --------------------------------------------------------------------


def test_defaults(tmp_path: Path) -> None:
    c = load(tmp_path)
    assert c.config_file is None
    assert c.app.data_dir == tmp_path / "data" and c.app.data_dir.is_absolute()
    assert c.data_dir == c.app.data_dir
    assert c.app.default_locale == "ru"
    t = c.telegram
    assert plain(t.token) == TOKEN
    assert t.api_base == "https://api.telegram.org" and t.uses_public_api
    assert (t.mode, t.use_webhook, t.webhook_url, plain(t.webhook_secret)) == ("polling", False, "", "")
    assert (t.listen_host, t.listen_port) == ("127.0.0.1", 8080)
    assert c.database.url == f"sqlite+aiosqlite:///{tmp_path}/data/kua.sqlite3"
    assert c.database.echo is False and c.database.is_sqlite and c.database.dialect == "sqlite"
    assert c.redis.url == "" and not c.redis.enabled
    s = c.security
    # Beside the data directory, not in it: a copy of data/ must not carry the keys.
    assert (plain(s.data_keys), plain(s.hmac_secret), s.key_file) == ((), "", tmp_path / "keys" / "keys.json")
    assert not s.keys_configured
    co = c.coordination
    assert (co.chat_id, co.coordinators, co.admins, co.on_call) == (0, (), (), ())
    assert not co.has_group
    assert (co.group_shows, co.private_view_minutes, co.remind_after_hours) == ("summary", 10, 12)
    assert (c.retention.draft_days, c.retention.closed_case_days) == (7, 365)
    lim = c.limits
    assert (lim.max_files_per_case, lim.max_file_mb, lim.max_text_chars) == (10, 20, 3500)
    assert (lim.code_attempts_per_hour, lim.reports_per_day) == (5, 5)
    assert (lim.surge_per_hour, lim.flood_updates, lim.flood_seconds) == (30, 20, 10)
    assert lim.max_file_bytes == 20 * 1024 * 1024
    assert (c.ngo.name, c.ngo.contacts, c.ngo.configured) == ("", "", False)
    assert c.logging.level == "INFO"


def test_config_is_frozen_and_repr_hides_secrets(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    c = load(
        tmp_path,
        {
            "KUA_SECURITY__DATA_KEYS": key,
            "KUA_SECURITY__HMAC_SECRET": "h" * 40,
            "KUA_DATABASE__URL": "postgresql://kua:pa55word@db/kua",
            "KUA_TELEGRAM__WEBHOOK_SECRET": "whsecret",
        },
    )
    with pytest.raises(ValidationError, match="frozen"):
        c.telegram.token = "x"  # type: ignore[misc, assignment]
    text = repr(c)
    for secret in (TOKEN, key, "h" * 40, "pa55word", "whsecret"):
        assert secret not in text


def test_secrets_are_declared_as_such_and_never_shown(tmp_path: Path) -> None:
    from bot.config import SECRET_KEYS

    # Read off the field types (SecretStr, or repr=False for URLs that may carry a password).
    assert {
        "telegram.token",
        "telegram.webhook_secret",
        "security.data_keys",
        "security.hmac_secret",
        "database.url",
        "redis.url",
    } == SECRET_KEYS
    c = load(tmp_path, {"KUA_REDIS__URL": "redis://:r3dispw@cache:6379/0"})
    assert isinstance(c.telegram.token, SecretStr)
    for text in (repr(c), str(c), repr(c.telegram), c.model_dump_json()):
        assert TOKEN not in text
    assert "r3dispw" not in repr(c) and "r3dispw" not in repr(c.redis)
    # A wrong type for a secret names the type, not the value (TOML and variables alike).
    e = error(tmp_path, toml="[security]\nhmac_secret = 12345678901234567890123456789012\n")
    assert e.key == "security.hmac_secret" and "an integer" in str(e)
    assert "12345678901234567890123456789012" not in str(e)


def test_toml_then_env_precedence(tmp_path: Path) -> None:
    toml = """
[app]
default_locale = "kk"
data_dir = "var/kua"

[telegram]
token = "42:from-file"
listen_port = 9000

[coordination]
chat_id = -1001234567890
coordinators = [11, 22]
group_shows = "full"

[ngo]
name = "Kadyr Kassiyet"
"""
    c = load_config(
        {"KUA_COORDINATION__GROUP_SHOWS": "summary", "KUA_LIMITS__MAX_FILE_MB": "5"}, _write(tmp_path, toml)
    )
    assert c.config_file == tmp_path / "config.toml"
    assert plain(c.telegram.token) == "42:from-file"  # file over default
    assert c.app.default_locale == "kk"
    assert c.app.data_dir == tmp_path / "var" / "kua"
    assert c.telegram.listen_port == 9000
    assert c.coordination.chat_id == -1001234567890 and c.coordination.has_group
    assert c.coordination.coordinators == (11, 22)
    assert c.coordination.group_shows == "summary"  # env over file
    assert c.limits.max_file_mb == 5  # env over default
    assert c.ngo.name == "Kadyr Kassiyet" and c.ngo.configured

    c = load_config({"KUA_TELEGRAM__TOKEN": "7:from-env"}, tmp_path)
    assert plain(c.telegram.token) == "7:from-env"


def _write(directory: Path, toml: str, name: str = "config.toml") -> Path:
    (directory / name).write_text(toml, encoding="utf-8")
    return directory


def test_kua_config_names_the_file(tmp_path: Path) -> None:
    _write(tmp_path, '[telegram]\ntoken = "1:default-file"\n')
    (tmp_path / "etc").mkdir()
    _write(tmp_path / "etc", '[telegram]\ntoken = "2:named-file"\n', "kua.toml")

    c = load_config({"KUA_CONFIG": "etc/kua.toml"}, tmp_path)  # relative to cwd
    assert plain(c.telegram.token) == "2:named-file"
    assert c.config_file == tmp_path / "etc" / "kua.toml"

    c = load_config({"KUA_CONFIG": str(tmp_path / "etc" / "kua.toml")}, Path("/"))
    assert plain(c.telegram.token) == "2:named-file"

    c = load_config({}, tmp_path)
    assert plain(c.telegram.token) == "1:default-file"


@pytest.mark.parametrize("target", ["missing.toml", "etc"])
def test_kua_config_missing_or_not_a_file(tmp_path: Path, target: str) -> None:
    (tmp_path / "etc").mkdir()
    _write(tmp_path, '[telegram]\ntoken = "1:x"\n')  # not used as a fallback
    e = error(tmp_path, {"KUA_CONFIG": target})
    assert e.key == "KUA_CONFIG"
    assert str(tmp_path / target) in str(e) and "fix KUA_CONFIG" in str(e)


def test_env_without_double_underscore_is_ignored(tmp_path: Path) -> None:
    c = load(
        tmp_path,
        {
            "KUA_TEST_DATABASE_URL": "whatever",
            "KUA_DEBUG": "1",
            "HOME": "/root",
            "kua_telegram__token": "lower-case names are not ours",
        },
    )
    assert plain(c.telegram.token) == TOKEN


# --- types and parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        (" Yes ", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("NO", False),
    ],
)
def test_env_bool(tmp_path: Path, raw: str, expected: bool) -> None:
    assert load(tmp_path, {"KUA_DATABASE__ECHO": raw}).database.echo is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", ()),
        ("  ", ()),
        ("42", (42,)),
        ("1,2,3", (1, 2, 3)),
        (" 1 , 2 ,", (1, 2)),
    ],
)
def test_env_int_list(tmp_path: Path, raw: str, expected: tuple[int, ...]) -> None:
    c = load(tmp_path, {"KUA_COORDINATION__ADMINS": raw, "KUA_COORDINATION__ON_CALL": raw})
    assert c.coordination.admins == expected and c.coordination.on_call == expected


def test_env_str_list(tmp_path: Path) -> None:
    k1, k2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    c = load(tmp_path, {"KUA_SECURITY__DATA_KEYS": f"{k1}, {k2}", "KUA_SECURITY__HMAC_SECRET": "x" * 32})
    assert plain(c.security.data_keys) == (k1, k2)
    assert c.security.keys_configured
    assert load(tmp_path, {"KUA_SECURITY__DATA_KEYS": ""}).security.data_keys == ()


def test_env_ints_and_negative_chat_id(tmp_path: Path) -> None:
    c = load(tmp_path, {"KUA_COORDINATION__CHAT_ID": "-1001234567890", "KUA_TELEGRAM__LISTEN_PORT": " 8443 "})
    assert c.coordination.chat_id == -1001234567890
    assert c.telegram.listen_port == 8443


def test_enums_are_case_insensitive(tmp_path: Path) -> None:
    c = load(
        tmp_path,
        {"KUA_TELEGRAM__MODE": "Polling", "KUA_APP__DEFAULT_LOCALE": "EN", "KUA_LOGGING__LEVEL": "debug"},
    )
    assert (c.telegram.mode, c.app.default_locale, c.logging.level) == ("polling", "en", "DEBUG")
    assert load(tmp_path, {"KUA_LOGGING__LEVEL": "warn"}).logging.level == "WARNING"


def test_toml_lists(tmp_path: Path) -> None:
    c = load(tmp_path, toml="[coordination]\nadmins = [1, 2]\non_call = []\n")
    assert c.coordination.admins == (1, 2) and c.coordination.on_call == ()


# --- URLs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://kua:pw@db.local:5432/kua", "postgresql+asyncpg://kua:pw@db.local:5432/kua"),
        ("postgres://kua:pw@db/kua", "postgresql+asyncpg://kua:pw@db/kua"),
        ("postgresql+asyncpg://kua@db/kua?ssl=require", "postgresql+asyncpg://kua@db/kua?ssl=require"),
        ("sqlite:////var/lib/kua/kua.db", "sqlite+aiosqlite:////var/lib/kua/kua.db"),
        ("sqlite+aiosqlite:////var/lib/kua/kua.db", "sqlite+aiosqlite:////var/lib/kua/kua.db"),
        ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
    ],
)
def test_database_url_rewriting(tmp_path: Path, url: str, expected: str) -> None:
    assert load(tmp_path, {"KUA_DATABASE__URL": url}).database.url == expected


def test_relative_sqlite_path_resolves_against_cwd(tmp_path: Path) -> None:
    c = load(tmp_path, {"KUA_DATABASE__URL": "sqlite:///db/kua.db"})
    assert c.database.url == f"sqlite+aiosqlite:///{tmp_path}/db/kua.db"


def test_postgres_dialect(tmp_path: Path) -> None:
    c = load(tmp_path, {"KUA_DATABASE__URL": "postgres://u:p@h/d"})
    assert c.database.dialect == "postgresql" and not c.database.is_sqlite


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://127.0.0.1:8081/", "http://127.0.0.1:8081"),
        ("https://botapi.example.org//", "https://botapi.example.org"),
        ("https://api.telegram.org", "https://api.telegram.org"),
    ],
)
def test_api_base(tmp_path: Path, raw: str, expected: str) -> None:
    assert load(tmp_path, {"KUA_TELEGRAM__API_BASE": raw}).telegram.api_base == expected


def test_webhook_mode(tmp_path: Path) -> None:
    c = load(
        tmp_path,
        {
            "KUA_TELEGRAM__MODE": "webhook",
            "KUA_TELEGRAM__WEBHOOK_URL": "https://kua.example.org/tg/hook",
            "KUA_TELEGRAM__WEBHOOK_SECRET": "A-b_9" * 10,
        },
    )
    assert c.telegram.use_webhook and c.telegram.webhook_path == "/tg/hook"
    c = load(
        tmp_path,
        {
            "KUA_TELEGRAM__MODE": "webhook",
            "KUA_TELEGRAM__WEBHOOK_URL": "http://localhost:8080/hook",
            "KUA_TELEGRAM__WEBHOOK_SECRET": "s",
        },
    )
    assert c.telegram.webhook_url == "http://localhost:8080/hook"


# --- errors: one line, naming the key and how to fix it ------------------------------------------


def test_missing_token(tmp_path: Path) -> None:
    e = error(tmp_path, base={})
    assert e.key == "telegram.token"
    assert str(e) == (
        "telegram.token is missing: set KUA_TELEGRAM__TOKEN or [telegram] token in "
        "config.toml (get one from @BotFather)"
    )


def test_missing_token_names_the_file_in_use(tmp_path: Path) -> None:
    e = error(tmp_path, toml="[app]\ndefault_locale = 'en'\n", base={})
    assert str(tmp_path / "config.toml") in str(e) and "KUA_TELEGRAM__TOKEN" in str(e)


def test_group_shows_message(tmp_path: Path) -> None:
    e = error(tmp_path, {"KUA_COORDINATION__GROUP_SHOWS": "x"})
    assert e.key == "coordination.group_shows"
    assert str(e) == (
        'coordination.group_shows must be "summary" or "full", got "x" (KUA_COORDINATION__GROUP_SHOWS)'
    )


def test_value_from_file_names_the_file(tmp_path: Path) -> None:
    e = error(tmp_path, toml='[coordination]\ngroup_shows = "all"\n')
    assert str(e) == (
        f'coordination.group_shows must be "summary" or "full", got "all" '
        f"([coordination] group_shows in {tmp_path / 'config.toml'})"
    )


@pytest.mark.parametrize(
    ("env", "key", "fragments"),
    [
        ({"KUA_TELEGRAM__TOKEN": "not-a-token"}, "telegram.token", ["does not look like a bot token"]),
        ({"KUA_TELEGRAM__TOKEN": "123:"}, "telegram.token", ["@BotFather"]),
        ({"KUA_TELEGRAM__API_BASE": "ftp://x"}, "telegram.api_base", ["http(s) URL"]),
        ({"KUA_TELEGRAM__API_BASE": "localhost:8081"}, "telegram.api_base", ["http(s) URL"]),
        ({"KUA_TELEGRAM__API_BASE": "http://h:99999"}, "telegram.api_base", ["http(s) URL"]),
        ({"KUA_TELEGRAM__MODE": "push"}, "telegram.mode", ['"polling" or "webhook"', '"push"']),
        (
            {"KUA_TELEGRAM__MODE": "webhook", "KUA_TELEGRAM__WEBHOOK_SECRET": "s"},
            "telegram.webhook_url",
            ['required when telegram.mode is "webhook"', "KUA_TELEGRAM__WEBHOOK_URL"],
        ),
        (
            {"KUA_TELEGRAM__MODE": "webhook", "KUA_TELEGRAM__WEBHOOK_URL": "https://x.org/h"},
            "telegram.webhook_secret",
            ["required", "KUA_TELEGRAM__WEBHOOK_SECRET"],
        ),
        ({"KUA_TELEGRAM__WEBHOOK_URL": "http://kua.example.org/h"}, "telegram.webhook_url", ["https"]),
        ({"KUA_TELEGRAM__WEBHOOK_SECRET": "has space"}, "telegram.webhook_secret", ["A-Z, a-z, 0-9"]),
        ({"KUA_TELEGRAM__WEBHOOK_SECRET": "x" * 257}, "telegram.webhook_secret", ["1-256"]),
        ({"KUA_TELEGRAM__LISTEN_PORT": "0"}, "telegram.listen_port", ["between 1 and 65535", "got 0"]),
        ({"KUA_TELEGRAM__LISTEN_PORT": "70000"}, "telegram.listen_port", ["between 1 and 65535"]),
        ({"KUA_TELEGRAM__LISTEN_PORT": "http"}, "telegram.listen_port", ["must be an integer", '"http"']),
        ({"KUA_TELEGRAM__LISTEN_HOST": " "}, "telegram.listen_host", ["must not be empty"]),
        ({"KUA_DATABASE__ECHO": "maybe"}, "database.echo", ["true or false", "yes/no", '"maybe"']),
        ({"KUA_DATABASE__URL": "mysql://u:hunter2@h/d"}, "database.url", ["'mysql'", "postgresql+asyncpg"]),
        ({"KUA_DATABASE__URL": "sqlite+pysqlite:///x.db"}, "database.url", ["not supported"]),
        ({"KUA_DATABASE__URL": "::hunter2::"}, "database.url", ["not a valid database URL"]),
        ({"KUA_REDIS__URL": "http://r"}, "redis.url", ["redis://"]),
        ({"KUA_APP__DATA_DIR": ""}, "app.data_dir", ["must not be empty"]),
        ({"KUA_APP__DEFAULT_LOCALE": "de"}, "app.default_locale", ['"kk", "ru", "en"', '"de"']),
        ({"KUA_LOGGING__LEVEL": "LOUD"}, "logging.level", ["DEBUG", '"LOUD"']),
        ({"KUA_SECURITY__DATA_KEYS": "nope"}, "security.data_keys", ["data_keys[0]", "Fernet"]),
        ({"KUA_SECURITY__HMAC_SECRET": "hunter2"}, "security.hmac_secret", ["at least 32 characters"]),
        ({"KUA_COORDINATION__CHAT_ID": "-100x"}, "coordination.chat_id", ["integer"]),
        (
            {"KUA_COORDINATION__COORDINATORS": "1,x"},
            "coordination.coordinators",
            ["list of integers", "comma-separated"],
        ),
        ({"KUA_COORDINATION__ADMINS": "-1001"}, "coordination.admins", ["positive", "chat_id"]),
        ({"KUA_COORDINATION__PRIVATE_VIEW_MINUTES": "0"}, "coordination.private_view_minutes", ["positive"]),
        ({"KUA_COORDINATION__REMIND_AFTER_HOURS": "-1"}, "coordination.remind_after_hours", ["positive"]),
        ({"KUA_RETENTION__DRAFT_DAYS": "0"}, "retention.draft_days", ["positive"]),
        ({"KUA_RETENTION__CLOSED_CASE_DAYS": "0"}, "retention.closed_case_days", ["positive"]),
        ({"KUA_LIMITS__MAX_FILES_PER_CASE": "0"}, "limits.max_files_per_case", ["positive"]),
        ({"KUA_LIMITS__MAX_FILE_MB": "21"}, "limits.max_file_mb", ["between 1 and 20", "Telegram"]),
        ({"KUA_LIMITS__MAX_FILE_MB": "0"}, "limits.max_file_mb", ["between 1 and 20"]),
        ({"KUA_LIMITS__MAX_TEXT_CHARS": "0"}, "limits.max_text_chars", ["positive"]),
        ({"KUA_LIMITS__CODE_ATTEMPTS_PER_HOUR": "0"}, "limits.code_attempts_per_hour", ["positive"]),
        ({"KUA_LIMITS__REPORTS_PER_DAY": "0"}, "limits.reports_per_day", ["positive"]),
        ({"KUA_LIMITS__SURGE_PER_HOUR": "0"}, "limits.surge_per_hour", ["positive"]),
        ({"KUA_LIMITS__FLOOD_UPDATES": "0"}, "limits.flood_updates", ["positive"]),
    ],
)
def test_invalid_values(tmp_path: Path, env: dict[str, str], key: str, fragments: list[str]) -> None:
    e = error(tmp_path, env)
    message = str(e)
    assert e.key == key
    assert message.startswith(key)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    # How to fix: the variable that carried the bad value (or how to set the missing one).
    assert env_name(key) in message
    # Secrets are never echoed.
    for secret in (TOKEN, "hunter2", "not-a-token", "has space"):
        assert secret not in message


def test_unknown_env_setting(tmp_path: Path) -> None:
    e = error(tmp_path, {"KUA_TELEGRAM__TOKN": "x"})
    assert e.key == "telegram.tokn"
    assert str(e) == (
        "KUA_TELEGRAM__TOKN is not a known setting (did you mean KUA_TELEGRAM__TOKEN?): "
        "unset it or fix the name"
    )
    e = error(tmp_path, {"KUA_TELEGRAMM__TOKEN": "x"})
    assert "KUA_TELEGRAMM__TOKEN is not a known setting" in str(e)


def test_unknown_toml_section_and_key(tmp_path: Path) -> None:
    e = error(tmp_path, toml="[telegramm]\ntoken = '1:x'\n")
    assert e.key == "config" and "unknown section [telegramm]" in str(e) and "[telegram]" in str(e)
    e = error(tmp_path, toml="[telegram]\ntokn = '1:x'\n")
    assert e.key == "telegram.tokn"
    assert "unknown setting 'tokn' in [telegram]" in str(e) and "did you mean token?" in str(e)
    e = error(tmp_path, toml="token = '1:x'\n")
    assert e.key == "config" and "[token]" in str(e)


@pytest.mark.parametrize(
    ("toml", "key", "fragments"),
    [
        (
            "[telegram]\nlisten_port = '8080'\n",
            "telegram.listen_port",
            ['must be an integer, got the string "8080"', "[telegram] listen_port in"],
        ),
        ("[telegram]\nlisten_port = 80.5\n", "telegram.listen_port", ["must be an integer"]),
        ("[database]\necho = 'yes'\n", "database.echo", ["must be true or false"]),
        ("[coordination]\ncoordinators = ['1']\n", "coordination.coordinators", ["a list of integers"]),
        ("[coordination]\ncoordinators = 5\n", "coordination.coordinators", ["the integer 5"]),
        ("[coordination]\nchat_id = true\n", "coordination.chat_id", ["must be an integer, got true"]),
        ("[security]\ndata_keys = 'abc'\n", "security.data_keys", ["a list of strings"]),
        ("[telegram]\ntoken = 123456\n", "telegram.token", ["must be a string, got an integer"]),
    ],
)
def test_wrong_toml_types(tmp_path: Path, toml: str, key: str, fragments: list[str]) -> None:
    e = error(tmp_path, toml=toml)
    assert e.key == key
    for fragment in fragments:
        assert fragment in str(e), (fragment, str(e))
    assert "123456" not in str(e)  # secret values stay out even when mistyped


def test_invalid_toml(tmp_path: Path) -> None:
    e = error(tmp_path, toml="[telegram\ntoken = \n")
    assert e.key == "config"
    assert str(e).startswith(f"{tmp_path / 'config.toml'} is not valid TOML")
    assert "line 1" in str(e)


def test_env_override_of_invalid_value_names_env_var(tmp_path: Path) -> None:
    e = error(tmp_path, {"KUA_LIMITS__MAX_FILE_MB": "50"}, toml="[limits]\nmax_file_mb = 10\n")
    assert "(KUA_LIMITS__MAX_FILE_MB)" in str(e)


# --- the example file -----------------------------------------------------------------------------


def test_example_documents_every_key() -> None:
    text = (REPO / "config.example.toml").read_text(encoding="utf-8")
    for section, keys in SCHEMA.items():
        assert f"[{section}]" in text
        for key in keys:
            assert f"\n{key} = " in text or f"\n# {key} = " in text, f"{section}.{key}"
            assert env_name(f"{section}.{key}") in text
    data = tomllib.loads(text)
    assert "token" not in data["telegram"]  # the example is not a working config by itself


def test_example_loads_once_a_token_is_given(tmp_path: Path) -> None:
    example = (REPO / "config.example.toml").read_text(encoding="utf-8")
    e = error(tmp_path, toml=example, base={})
    assert e.key == "telegram.token"
    c = load(tmp_path, toml=example)
    assert plain(c.telegram.token) == TOKEN and c.config_file == tmp_path / "config.toml"


def test_ngo_lawyer_and_legal_review(tmp_path: Path) -> None:
    c = load(tmp_path)
    assert (c.ngo.lawyer, c.ngo.legal_reviewed_on, c.ngo.legal_reviewed_by) == ("", None, "")
    c = load(
        tmp_path,
        {
            "KUA_NGO__LAWYER": " @kua_lawyer ",
            "KUA_NGO__LEGAL_REVIEWED_ON": "2027-01-15",
            "KUA_NGO__LEGAL_REVIEWED_BY": "A. Seitkali",
        },
    )
    assert c.ngo.lawyer == "@kua_lawyer"
    assert c.ngo.legal_reviewed_on == date(2027, 1, 15)
    assert c.ngo.legal_reviewed_by == "A. Seitkali"

    e = error(
        tmp_path, {"KUA_NGO__LEGAL_REVIEWED_ON": "15.01.2027", "KUA_NGO__LEGAL_REVIEWED_BY": "A. Seitkali"}
    )
    assert e.key == "ngo.legal_reviewed_on" and "YYYY-MM-DD" in str(e)
    assert "KUA_NGO__LEGAL_REVIEWED_ON" in str(e)
    e = error(tmp_path, {"KUA_NGO__LEGAL_REVIEWED_ON": "2027-01-15"})
    assert e.key == "ngo.legal_reviewed_by" and "KUA_NGO__LEGAL_REVIEWED_BY" in str(e)
