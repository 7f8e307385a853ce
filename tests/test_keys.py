from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config import ConfigError, SecurityConfig
from storage.crypto import Crypto
from storage.keys import load_crypto

SECRET = "s" * 40


def security(
    tmp_path: Path, *, data_keys: tuple[str, ...] = (), hmac_secret: str = "", key_file: Path | None = None
) -> SecurityConfig:
    return SecurityConfig(
        data_keys=data_keys, hmac_secret=hmac_secret, key_file=key_file or tmp_path / "data" / "keys.json"
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generates_key_file_with_0600_and_warns(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    crypto, warnings = load_crypto(security(tmp_path), data_dir)

    path = data_dir / "keys.json"
    assert path.is_file()
    assert mode(path) == 0o600
    assert mode(data_dir) & 0o077 == 0
    body = json.loads(path.read_text())
    assert len(body["data_keys"]) == 1
    Fernet(body["data_keys"][0])
    assert len(body["hmac_secret"]) >= 64  # 48 random bytes, url-safe base64
    assert len(warnings) == 1
    assert str(path) in warnings[0] and "back" in warnings[0].lower()
    assert "database" in warnings[0]
    assert crypto.decrypt_text(crypto.encrypt_text("привет")) == "привет"
    assert not list(data_dir.glob(".*tmp"))  # no temporary file left behind


def test_reuses_the_file_on_the_next_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first, _ = load_crypto(security(tmp_path), data_dir)
    token = first.encrypt_text("report")
    content = (data_dir / "keys.json").read_bytes()

    second, warnings = load_crypto(security(tmp_path), data_dir)

    assert warnings == []
    assert (data_dir / "keys.json").read_bytes() == content
    assert second.decrypt_text(token) == "report"
    assert second.keyed_hash("reporter", 42) == first.keyed_hash("reporter", 42)


def test_default_path_when_key_file_is_empty(tmp_path: Path) -> None:
    sec = security(tmp_path)
    sec = sec.model_copy(update={"key_file": ""})  # an empty setting: storage.keys picks the default
    _, warnings = load_crypto(sec, tmp_path / "elsewhere")
    assert (tmp_path / "elsewhere" / "keys.json").is_file()
    assert warnings


def test_configured_keys_win_and_no_file_is_written(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    crypto, warnings = load_crypto(
        security(tmp_path, data_keys=(key,), hmac_secret=SECRET), tmp_path / "data"
    )
    assert warnings == []
    assert not (tmp_path / "data").exists()
    assert Fernet(key.encode()).decrypt(crypto.encrypt(b"x")) == b"x"
    assert crypto.keyed_hash("p", 1) == Crypto([key], SECRET).keyed_hash("p", 1)


def test_rotation_file_with_two_keys_decrypts_tokens_of_the_old_key(tmp_path: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    path = tmp_path / "keys.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, json.dumps({"data_keys": [new, old], "hmac_secret": SECRET}).encode())
    os.close(fd)
    old_token = Fernet(old.encode()).encrypt(b"written before rotation")

    crypto, warnings = load_crypto(security(tmp_path, key_file=path), tmp_path)

    assert warnings == []
    assert crypto.decrypt(old_token) == b"written before rotation"
    # New data is encrypted under the first key only.
    assert Fernet(new.encode()).decrypt(crypto.encrypt(b"new")) == b"new"


def test_mixed_configuration_takes_the_missing_part_from_the_file(tmp_path: Path) -> None:
    file_key = Fernet.generate_key().decode()
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"data_keys": [file_key], "hmac_secret": "f" * 40}))
    path.chmod(0o600)
    env_key = Fernet.generate_key().decode()

    crypto, _ = load_crypto(security(tmp_path, data_keys=(env_key,), key_file=path), tmp_path)
    assert Fernet(env_key.encode()).decrypt(crypto.encrypt(b"x")) == b"x"
    assert crypto.keyed_hash("p", 1) == Crypto([env_key], "f" * 40).keyed_hash("p", 1)

    crypto, _ = load_crypto(security(tmp_path, hmac_secret=SECRET, key_file=path), tmp_path)
    assert Fernet(file_key.encode()).decrypt(crypto.encrypt(b"x")) == b"x"
    assert crypto.keyed_hash("p", 1) == Crypto([file_key], SECRET).keyed_hash("p", 1)


def test_mixed_configuration_only_needs_the_missing_part_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"hmac_secret": "f" * 40}))
    path.chmod(0o600)
    key = Fernet.generate_key().decode()
    crypto, _ = load_crypto(security(tmp_path, data_keys=(key,), key_file=path), tmp_path)
    assert crypto.keyed_hash("p", 1) == Crypto([key], "f" * 40).keyed_hash("p", 1)


def test_wide_permissions_give_a_warning_not_an_error(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    load_crypto(security(tmp_path), data_dir)
    path = data_dir / "keys.json"
    path.chmod(0o644)

    _, warnings = load_crypto(security(tmp_path), data_dir)

    assert len(warnings) == 1
    assert "0644" in warnings[0] and f"chmod 600 {path}" in warnings[0]


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        json.dumps({"data_keys": [], "hmac_secret": SECRET}).encode(),
        json.dumps({"data_keys": ["not-a-key"], "hmac_secret": SECRET}).encode(),
        json.dumps({"data_keys": [Fernet.generate_key().decode()], "hmac_secret": "short"}).encode(),
        json.dumps({"data_keys": [Fernet.generate_key().decode()]}).encode(),
    ],
    # Fixed ids: the generated keys would name the cases differently in each xdist worker.
    ids=["not-json", "not-utf8", "a-list", "no-keys", "bad-key", "short-secret", "no-secret"],
)
def test_corrupt_key_file_is_a_config_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "keys.json"
    path.write_bytes(content)
    path.chmod(0o600)

    with pytest.raises(ConfigError) as info:
        load_crypto(security(tmp_path, key_file=path), tmp_path)

    assert info.value.key == "security.key_file"
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"security.key_file {path} is unusable")
    assert "backup" in message
    assert SECRET not in message


def test_uncreatable_key_file_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(ConfigError) as info:
        load_crypto(security(tmp_path, key_file=blocker / "keys.json"), tmp_path)
    assert info.value.key == "security.key_file"
    assert "cannot create the key file" in str(info.value)


def test_concurrent_creation_uses_the_file_that_won(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keys.json"
    winner = {"data_keys": [Fernet.generate_key().decode()], "hmac_secret": "w" * 40}
    real_link = os.link

    def link_after_another_process(src: Path, dst: Path) -> None:
        Path(dst).write_text(json.dumps(winner))
        Path(dst).chmod(0o600)
        real_link(src, dst)  # raises FileExistsError, as when losing the race

    monkeypatch.setattr("storage.keys.os.link", link_after_another_process)
    crypto, warnings = load_crypto(security(tmp_path, key_file=path), tmp_path)

    assert warnings == []
    assert json.loads(path.read_text()) == winner
    assert crypto.keyed_hash("p", 1) == Crypto(list(winner["data_keys"]), "w" * 40).keyed_hash("p", 1)
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]
