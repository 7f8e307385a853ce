"""The key file's default place is outside the data directory; old installations keep theirs."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_app
from bot.config import Config, load_config
from bot.keyfile import placement_warnings
from storage.db import upgrade_to_head
from storage.keys import generate_key_material, load_crypto

TOKEN = "123456:TEST-token"


def config_at(tmp_path: Path, **env: str) -> Config:
    return load_config(environ={"KUA_TELEGRAM__TOKEN": TOKEN, **env}, cwd=tmp_path)


def warnings_for(config: Config) -> list[str]:
    return placement_warnings(config.security, config.database.url, config.data_dir)


def write_keys(path: Path) -> dict[str, Any]:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    material = generate_key_material()
    path.write_text(json.dumps(material))
    path.chmod(0o600)
    return material


def test_a_fresh_install_generates_keys_beside_the_data_directory_not_in_it(tmp_path: Path) -> None:
    config = config_at(tmp_path)

    _, warnings = load_crypto(config.security, config.data_dir)

    key_file = tmp_path / "keys" / "keys.json"
    assert config.security.key_file == key_file and key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    assert not (tmp_path / "data" / "keys.json").exists()
    assert any("Generated new encryption keys" in w for w in warnings)
    assert warnings_for(config) == []


def test_an_existing_key_file_in_the_data_directory_is_kept_and_warned_about(tmp_path: Path) -> None:
    legacy = tmp_path / "data" / "keys.json"
    material = write_keys(legacy)
    config = config_at(tmp_path)

    crypto, _ = load_crypto(config.security, config.data_dir)

    assert config.security.key_file == legacy  # never new keys over existing data
    assert not (tmp_path / "keys").exists()
    assert crypto.keyed_hash("t", 1) == load_crypto(config.security, config.data_dir)[0].keyed_hash("t", 1)
    assert json.loads(legacy.read_text()) == material
    [warning] = warnings_for(config)
    assert "same directory as the SQLite database" in warning and "mv " in warning


def test_once_moved_the_new_place_wins_and_a_leftover_copy_is_pointed_out(tmp_path: Path) -> None:
    write_keys(tmp_path / "data" / "keys.json")
    write_keys(tmp_path / "keys" / "keys.json")

    config = config_at(tmp_path)

    assert config.security.key_file == tmp_path / "keys" / "keys.json"
    [warning] = warnings_for(config)
    assert "An old key file" in warning


def test_keys_in_the_data_directory_are_warned_about_with_postgresql_too(tmp_path: Path) -> None:
    write_keys(tmp_path / "data" / "keys.json")
    config = config_at(tmp_path, KUA_DATABASE__URL="postgresql+asyncpg://kua@127.0.0.1/kua")

    [warning] = warnings_for(config)

    assert "in the data directory" in warning and "old default" in warning


def test_keys_from_the_configuration_need_no_file(tmp_path: Path) -> None:
    material = generate_key_material()
    config = config_at(
        tmp_path,
        KUA_SECURITY__DATA_KEYS=material["data_keys"][0],
        KUA_SECURITY__HMAC_SECRET=material["hmac_secret"],
        KUA_SECURITY__KEY_FILE=str(tmp_path / "data" / "keys.json"),
    )
    assert warnings_for(config) == []


async def test_start_up_warns_when_keys_share_the_sqlite_directory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = config_at(tmp_path, KUA_SECURITY__KEY_FILE=str(tmp_path / "data" / "keys.json"))
    await upgrade_to_head(config.database.url)
    caplog.set_level(logging.WARNING, logger="kua")

    app = await build_app(config)
    await app.close()

    assert any("same directory as the SQLite database" in r.getMessage() for r in caplog.records)
