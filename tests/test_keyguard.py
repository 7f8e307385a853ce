"""Keys guarded: a missing or replaced key file stops start-up with one line (exit 2) instead of
new keys over old data; `python -m bot rotate-keys` adds a first key, re-encrypts every stored
value under it, and with --retire-old-keys leaves only that key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.app import StartupError, guarded_crypto
from bot.config import load_config
from storage.crypto import Crypto, InvalidToken
from storage.db import make_engine, make_sessionmaker, upgrade_to_head
from storage.fsm import SQLAlchemyStorage
from storage.keys import generate_key_material, load_crypto
from tests.test_startup import ROOT, assert_one_line_exit_2

KEY = StorageKey(bot_id=1, chat_id=424242, user_id=424242)


def run_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KUA_")}
    environ.update({"KUA_APP__DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT), **env})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def config_for(tmp_path: Path):
    return load_config(
        environ={"KUA_TELEGRAM__TOKEN": "123:abc", "KUA_APP__DATA_DIR": str(tmp_path / "data")}, cwd=tmp_path
    )


async def a_draft_stored(tmp_path: Path) -> Path:
    """A migrated database holding an encrypted draft; returns the key file's path."""
    config = config_for(tmp_path)
    await upgrade_to_head(config.database.url)
    crypto, _ = load_crypto(config.security, config.data_dir)
    engine = make_engine(config.database.url)
    try:
        fsm = SQLAlchemyStorage(make_sessionmaker(engine), crypto)
        await fsm.set_data(KEY, {"narrative": "KEY-MARKER"})
    finally:
        await engine.dispose()
    return config.security.key_file  # ./keys/keys.json by default, apart from ./data/


async def test_a_missing_key_file_stops_start_up_instead_of_new_keys(tmp_path: Path) -> None:
    keys = await a_draft_stored(tmp_path)
    keys.unlink()
    result = run_bot(tmp_path, KUA_TELEGRAM__TOKEN="123:abc")
    assert_one_line_exit_2(result, "security.key_file", "missing", "restore")
    assert not keys.exists()  # no new keys were written over the old data


async def test_a_replaced_key_file_stops_start_up(tmp_path: Path) -> None:
    keys = await a_draft_stored(tmp_path)
    config = config_for(tmp_path)
    engine = make_engine(config.database.url)
    try:  # the first start with the right keys records the check value
        await guarded_crypto(config, make_sessionmaker(engine), "db")
    finally:
        await engine.dispose()
    keys.write_text(json.dumps(generate_key_material()))
    result = run_bot(tmp_path, KUA_TELEGRAM__TOKEN="123:abc")
    assert_one_line_exit_2(result, "security.key_file", "not the ones", "restore")


async def test_a_replaced_key_file_is_refused_even_before_the_check_value_exists(tmp_path: Path) -> None:
    keys = await a_draft_stored(tmp_path)  # written before any start: no check value yet
    keys.write_text(json.dumps(generate_key_material()))
    config = config_for(tmp_path)
    engine = make_engine(config.database.url)
    try:
        with pytest.raises(StartupError, match="data_keys differ"):
            await guarded_crypto(config, make_sessionmaker(engine), "db")
    finally:
        await engine.dispose()


async def test_a_changed_hmac_secret_is_refused(tmp_path: Path) -> None:
    keys = await a_draft_stored(tmp_path)
    config = config_for(tmp_path)
    engine = make_engine(config.database.url)
    try:
        await guarded_crypto(config, make_sessionmaker(engine), "db")
        material = json.loads(keys.read_text())
        material["hmac_secret"] = generate_key_material()["hmac_secret"]
        keys.write_text(json.dumps(material))
        with pytest.raises(StartupError, match="hmac_secret differ"):
            await guarded_crypto(config, make_sessionmaker(engine), "db")
    finally:
        await engine.dispose()


async def test_rotate_keys_reencrypts_old_records_and_can_retire_the_old_keys(tmp_path: Path) -> None:
    keys = await a_draft_stored(tmp_path)
    old = json.loads(keys.read_text())
    result = run_bot(tmp_path, "rotate-keys", KUA_TELEGRAM__TOKEN="123:abc")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "re-encrypted under the first key" in result.stdout
    new = json.loads(keys.read_text())
    assert new["data_keys"][1:] == old["data_keys"] and new["data_keys"][0] not in old["data_keys"]
    assert new["hmac_secret"] == old["hmac_secret"]
    assert keys.stat().st_mode & 0o077 == 0

    config = config_for(tmp_path)
    engine = make_engine(config.database.url)
    try:
        sessions = make_sessionmaker(engine)
        await guarded_crypto(config, sessions, "db")  # start-up accepts them
        # The old record is under the new key now: the new key alone reads it, the old ones not.
        new_only = SQLAlchemyStorage(sessions, Crypto(new["data_keys"][:1], new["hmac_secret"]))
        assert await new_only.get_data(KEY) == {"narrative": "KEY-MARKER"}
        old_only = SQLAlchemyStorage(sessions, Crypto(old["data_keys"], old["hmac_secret"]))
        with pytest.raises(InvalidToken):
            await old_only.get_data(KEY)
    finally:
        await engine.dispose()

    # Retiring: only the first key stays in the file, and start-up and the record are fine.
    result = run_bot(tmp_path, "rotate-keys", "--resume", "--retire-old-keys", KUA_TELEGRAM__TOKEN="123:abc")
    assert result.returncode == 0, result.stderr
    assert json.loads(keys.read_text())["data_keys"] == new["data_keys"][:1]
    assert keys.stat().st_mode & 0o077 == 0
    engine = make_engine(config.database.url)
    try:
        sessions = make_sessionmaker(engine)
        crypto, _ = await guarded_crypto(config, sessions, "db")
        assert await SQLAlchemyStorage(sessions, crypto).get_data(KEY) == {"narrative": "KEY-MARKER"}
    finally:
        await engine.dispose()


def test_an_unknown_command_is_refused_with_the_list(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "frobnicate")
    assert result.returncode == 2 and "rotate-keys" in result.stderr
