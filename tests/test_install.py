"""`pip install .` into a fresh virtual environment gives a bot that runs from any directory.

The source is copied without compiled catalogs, caches or tests, so the wheel must compile the
catalogs itself (setup.py) and carry the migrations; the installed bot is then run from an
unrelated directory with no PYTHONPATH, so nothing can be found through the checkout.
Installing takes 20-50 s (pip's configured indexes and cache): deselect with ``-m "not install"``
while iterating; CI runs it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.install

# What a fresh clone would not have, or what the wheel must not need.
_NOT_SOURCE = shutil.ignore_patterns(
    ".venv", ".git", "*.mo", "__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache",
    ".ruff_cache", "build", "*.egg-info", "data", "keys", "config.toml", "tests",
)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KUA_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh venv into which the project was pip-installed (not editable)."""
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    assert not list(source.rglob("*.mo"))
    env_dir = base / "venv"
    # No pip inside: the test's own pip installs into it (faster, and the same pinned pip).
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-compile", "--disable-pip-version-check",
         "--constraint", str(ROOT / "requirements" / "base.txt"), str(source)],
        env=clean_env(), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    shutil.rmtree(source)  # the installed bot must not lean on the copy
    return python


def run_installed(python: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), *args], cwd=cwd, env=clean_env(**env),
                          capture_output=True, text=True, timeout=120)


def test_installed_package_holds_catalogs_and_migrations_not_tests(installed: Path, tmp_path: Path) -> None:
    result = run_installed(installed, tmp_path, "-c", """
import importlib.util, pathlib, bot.i18n, storage.db
i18n = bot.i18n.make_i18n("ru")
print(sorted(i18n.available_locales))
print(sorted(storage.db.head_revisions()))
print(pathlib.Path(bot.i18n.__file__).is_relative_to(pathlib.Path(storage.db.__file__).parent.parent))
print(importlib.util.find_spec("tests"))
""")
    assert result.returncode == 0, result.stderr
    locales, heads, same_root, tests = result.stdout.split("\n")[:4]
    assert locales == "['en', 'kk', 'ru']"
    assert heads != "[]"
    assert same_root == "True"
    assert tests == "None"  # the test suite is not shipped


def test_installed_bot_migrates_sqlite_from_another_directory(installed: Path, tmp_path: Path) -> None:
    result = run_installed(installed, tmp_path, "-m", "storage.migrate", "upgrade",
                           KUA_APP__DATA_DIR=str(tmp_path / "state"))
    assert result.returncode == 0, result.stderr
    assert "(head)" in result.stdout
    assert (tmp_path / "state" / "kua.sqlite3").is_file()
