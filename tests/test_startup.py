"""`python -m bot` refuses to start with one clear line and exit code 2 — never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_bot(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KUA_")}
    environ.update({"KUA_APP__DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT), **env})
    return subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=60
    )


def assert_one_line_exit_2(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_missing_token(tmp_path: Path) -> None:
    assert_one_line_exit_2(run_bot(tmp_path), "telegram.token", "KUA_TELEGRAM__TOKEN")


def test_malformed_value(tmp_path: Path) -> None:
    result = run_bot(tmp_path, KUA_TELEGRAM__TOKEN="123:abc", KUA_LIMITS__MAX_FILE_MB="lots")
    assert_one_line_exit_2(result, "limits.max_file_mb", "KUA_LIMITS__MAX_FILE_MB")


def test_bad_config_file(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[telegram]\ntoken = "123:abc"\nmode = "carrier-pigeon"\n')
    assert_one_line_exit_2(run_bot(tmp_path), "telegram.mode")


def test_unreachable_database(tmp_path: Path) -> None:
    # Port 9 (discard) on loopback: nothing listens there, the connection is refused at once.
    result = run_bot(
        tmp_path,
        KUA_TELEGRAM__TOKEN="123:abc",
        KUA_DATABASE__URL="postgresql+asyncpg://kua:secret@127.0.0.1:9/kua",
    )
    assert_one_line_exit_2(result, "database.url", "KUA_DATABASE__URL")
    assert "secret" not in result.stderr  # the password is never printed


def test_unmigrated_database(tmp_path: Path) -> None:
    result = run_bot(tmp_path, KUA_TELEGRAM__TOKEN="123:abc")
    assert_one_line_exit_2(result, "database.url", "migrate")


@pytest.mark.parametrize("missing", ["kk"])
def test_missing_catalog_is_reported(tmp_path: Path, missing: str, monkeypatch) -> None:
    from bot.i18n import make_i18n

    monkeypatch.setattr("bot.i18n.LOCALES_DIR", tmp_path)
    with pytest.raises(RuntimeError, match="compile-catalogs"):
        make_i18n("ru")
