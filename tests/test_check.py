"""`python -m bot check`: one line per check against the fake Bot API; it changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import insert

from bot.check import Line, main, run_checks
from bot.config import Config
from emulator import FakeTelegram
from storage.base import utcnow
from storage.crypto import Crypto
from storage.db import make_engine, upgrade_to_head
from storage.keys import load_crypto
from storage.models import MessageTrace
from tests.harness import make_config
from tests.storage_fixtures import make_crypto

ROOT = Path(__file__).resolve().parent.parent
GROUP = -1001234567890
ON_CALL = (700100200, 700100300)


def ready(fake: FakeTelegram, tmp_path: Path, **env: str) -> Config:
    """A configuration for a deployment where everything is in order (unless ``env`` says otherwise)."""
    fake.group(GROUP, "Coordinators", is_forum=True)
    for user_id in ON_CALL:
        fake.user(user_id, started=True)
    return make_config(
        fake,
        tmp_path,
        KUA_COORDINATION__CHAT_ID=str(GROUP),
        KUA_COORDINATION__ON_CALL=",".join(map(str, ON_CALL)),
        **env,
    )


async def store_encrypted(config: Config, crypto: Crypto) -> None:
    """One encrypted value in the database, as the bot writes them."""
    engine = make_engine(config.database.url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(MessageTrace).values(
                    chat_key="k" * 64, message_enc=crypto.encrypt(b"42"), sent_at=utcnow()
                )
            )
    finally:
        await engine.dispose()


def statuses(lines: list[Line]) -> list[tuple[str, str]]:
    return [(line.status, line.name) for line in lines]


async def test_a_ready_deployment_passes_every_check(fake: FakeTelegram, tmp_path: Path) -> None:
    config = ready(fake, tmp_path)
    await upgrade_to_head(config.database.url)
    crypto, _ = load_crypto(config.security, config.data_dir)  # what the first start does
    await store_encrypted(config, crypto)

    lines = await run_checks(config)

    assert statuses(lines) == [
        ("ok", "database"),
        ("ok", "keys"),
        ("ok", "telegram"),
        ("ok", "coordinators' chat"),
        ("ok", "on-call"),
    ]
    text = "\n".join(map(str, lines))
    assert "decrypt a stored value (message_trace.message_enc)" in text
    assert '"Coordinators" (forum), the bot is an admin allowed to manage topics' in text
    assert "2 of 2 reachable" in text
    # Nothing identifying or secret in the output.
    for needle in (str(GROUP), *map(str, ON_CALL), fake.token):
        assert needle not in text
    assert {r.method for r in fake.requests} == {"getMe", "getChat", "getChatMember"}


async def test_nothing_is_created_on_a_fresh_machine(fake: FakeTelegram, tmp_path: Path) -> None:
    config = ready(fake, tmp_path)

    lines = await run_checks(config, quick=True)

    assert statuses(lines) == [("FAIL", "database"), ("warn", "keys")]
    assert "python -m bot.migrate upgrade" in lines[0].detail
    assert "generates it on first start" in lines[1].detail
    assert not (tmp_path / "data").exists() and not (tmp_path / "keys").exists()
    assert fake.requests == []  # --quick: no Telegram traffic


async def test_an_unmigrated_database_fails(fake: FakeTelegram, tmp_path: Path) -> None:
    config = ready(fake, tmp_path)
    engine = make_engine(config.database.url)  # an empty SQLite file
    async with engine.connect():
        pass
    await engine.dispose()

    lines = await run_checks(config, quick=True)

    assert lines[0].status == "FAIL" and "not the latest schema" in lines[0].detail


async def test_keys_that_cannot_read_the_stored_data_fail(fake: FakeTelegram, tmp_path: Path) -> None:
    config = ready(fake, tmp_path)
    await upgrade_to_head(config.database.url)
    load_crypto(config.security, config.data_dir)  # a key file, but not the one the data needs
    await store_encrypted(config, make_crypto())

    keys = next(line for line in await run_checks(config, quick=True) if line.name == "keys")

    assert keys.status == "FAIL"
    assert "cannot decrypt a stored value (message_trace.message_enc)" in keys.detail


async def test_a_lost_key_file_with_stored_data_fails_and_is_not_regenerated(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    config = ready(fake, tmp_path)
    await upgrade_to_head(config.database.url)
    await store_encrypted(config, make_crypto())

    keys = next(line for line in await run_checks(config, quick=True) if line.name == "keys")

    assert keys.status == "FAIL" and "restore the key file from your backup" in keys.detail
    assert not config.security.key_file.exists()


async def test_keys_beside_the_sqlite_file_are_warned_about(fake: FakeTelegram, tmp_path: Path) -> None:
    config = ready(fake, tmp_path, KUA_SECURITY__KEY_FILE=str(tmp_path / "data" / "keys.json"))
    await upgrade_to_head(config.database.url)
    load_crypto(config.security, config.data_dir)

    lines = await run_checks(config, quick=True)

    assert statuses(lines) == [("ok", "database"), ("ok", "keys"), ("warn", "keys")]
    assert "same directory as the SQLite database" in lines[2].detail


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ({"bot_status": "member"}, "the bot is a member, not an administrator"),
        ({"bot_rights": {"can_manage_topics": False}}, "not allowed to manage topics"),
    ],
    ids=["not-admin", "no-topic-rights"],
)
async def test_the_bot_needs_admin_rights_in_the_coordinators_forum(
    fake: FakeTelegram, tmp_path: Path, group: dict, expected: str
) -> None:
    fake.group(GROUP, "Coordinators", is_forum=True, **group)
    config = make_config(fake, tmp_path, KUA_COORDINATION__CHAT_ID=str(GROUP))

    chat = next(line for line in await run_checks(config) if line.name == "coordinators' chat")

    assert chat.status == "FAIL" and expected in chat.detail


async def test_an_admin_in_a_plain_group_needs_no_topic_rights(fake: FakeTelegram, tmp_path: Path) -> None:
    fake.group(-100555, "Coordinators", bot_rights={"can_manage_topics": False})
    config = make_config(fake, tmp_path, KUA_COORDINATION__CHAT_ID="-100555")

    chat = next(line for line in await run_checks(config) if line.name == "coordinators' chat")

    assert (chat.status, chat.detail) == ("ok", '"Coordinators", the bot is an admin')


async def test_an_unset_or_unknown_coordinators_chat_fails(fake: FakeTelegram, tmp_path: Path) -> None:
    unset = make_config(fake, tmp_path)
    unknown = make_config(fake, tmp_path, KUA_COORDINATION__CHAT_ID="-100999")

    first = next(line for line in await run_checks(unset) if line.name == "coordinators' chat")
    second = next(line for line in await run_checks(unknown) if line.name == "coordinators' chat")

    assert first.status == "FAIL" and "coordination.chat_id is not set" in first.detail
    assert second.status == "FAIL" and "chat not found" in second.detail
    fake.errors.clear()  # the check asked about an unknown chat on purpose


async def test_an_unreachable_on_call_coordinator_is_named_by_position(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    fake.group(GROUP, "Coordinators")
    fake.user(ON_CALL[0], started=True)
    config = make_config(
        fake,
        tmp_path,
        KUA_COORDINATION__CHAT_ID=str(GROUP),
        KUA_COORDINATION__ON_CALL=f"{ON_CALL[0]},{ON_CALL[1]}",
    )

    on_call = next(line for line in await run_checks(config) if line.name == "on-call")

    assert on_call.status == "FAIL"
    assert "coordination.on_call[1] (Telegram server says - Bad Request: chat not found)" in on_call.detail
    assert str(ON_CALL[1]) not in on_call.detail
    fake.errors.clear()  # asked on purpose


async def test_a_rejected_token_fails_and_stops_the_telegram_checks(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    config = make_config(
        fake, tmp_path, KUA_TELEGRAM__TOKEN="999:wrong", KUA_COORDINATION__CHAT_ID=str(GROUP)
    )

    lines = await run_checks(config)

    assert statuses(lines)[-1] == ("FAIL", "telegram")
    assert "rejected" in lines[-1].detail and "999:wrong" not in str(lines[-1])
    fake.errors.clear()  # the wrong token was the point


def test_a_config_error_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in [v for v in os.environ if v.startswith("KUA_")]:
        monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KUA_TELEGRAM__TOKEN", "123:abc")
    monkeypatch.setenv("KUA_LIMITS__MAX_FILE_MB", "lots")

    assert main([]) == 2

    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith("FAIL  config: limits.max_file_mb")


def test_an_unknown_command_is_refused_with_exit_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUA_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chek"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "kua: unknown command 'chek'; commands: check, stats, export, rotate-keys (none: run the bot)"
    )


def test_the_quick_check_does_not_load_aiogram(tmp_path: Path) -> None:
    # A container runs it every minute: building aiogram's API types costs seconds of CPU.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUA_")}
    script = "import sys; from bot.check import main; main(['--quick']); print('aiogram' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "PYTHONPATH": str(ROOT), "KUA_TELEGRAM__TOKEN": "123:abc"},
    )
    assert result.stdout.splitlines()[-1] == "False", result.stdout + result.stderr
