"""`pip install .` into a fresh virtual environment gives a bot that runs from any directory.

The source is copied without compiled catalogs, caches or tests, so the wheel must compile the
catalogs itself (setup.py) and carry the migrations; the installed bot is then run from an
unrelated directory with no PYTHONPATH, so nothing can be found through the checkout.
Installing takes 20-50 s (pip's configured indexes and cache): deselect with ``-m "not install"``
while iterating; CI runs it.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from emulator import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.install]

# What a fresh clone would not have, or what the wheel must not need.
_NOT_SOURCE = shutil.ignore_patterns(
    ".venv",
    ".git",
    "*.mo",
    "__pycache__",
    "*.pyc",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "build",
    "*.egg-info",
    "data",
    "keys",
    "config.toml",
    "tests",
)


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KUA_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh venv into which the project was pip-installed (not editable).

    Built once per run, whichever xdist worker asks first: the others wait on a lock in the
    run's shared temporary directory and reuse it (the two tests may land on two workers).
    """
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the directory all workers' base temps are in
    with open(shared / "install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        python = shared / "install" / "venv" / "bin" / "python"
        if not python.exists():
            _install(shared / "install")
        return python


def _install(base: Path) -> Path:
    base.mkdir()
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCE)
    assert not list(source.rglob("*.mo"))
    env_dir = base / "venv"
    # No pip inside: the test's own pip installs into it (faster, and the same pinned pip).
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-compile",
            "--disable-pip-version-check",
            "--constraint",
            str(ROOT / "requirements" / "base.txt"),
            str(source),
        ],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    shutil.rmtree(source)  # the installed bot must not lean on the copy
    return python


def run_installed(python: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), *args], cwd=cwd, env=clean_env(**env), capture_output=True, text=True, timeout=120
    )


def test_installed_package_holds_compiled_catalogs_and_migrations_not_tests(
    installed: Path, tmp_path: Path
) -> None:
    result = run_installed(
        installed,
        tmp_path,
        "-c",
        """
import gettext, importlib.util, pathlib, storage.db
root = pathlib.Path(importlib.util.find_spec("bot").origin).parent.parent
for lang in ("kk", "ru", "en"):
    with open(root / "locales" / lang / "LC_MESSAGES" / "messages.mo", "rb") as mo:
        gettext.GNUTranslations(mo)  # a valid compiled catalog
print(sorted(storage.db.head_revisions()) != [], importlib.util.find_spec("tests"))
""",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "None"]  # migrations shipped, the test suite not


async def run_installed_async(program: Path, cwd: Path, *args: str, **env: str) -> tuple[int, str]:
    """Like run_installed, without blocking the loop the fake Bot API answers from."""
    process = await asyncio.create_subprocess_exec(
        str(program),
        *args,
        cwd=cwd,
        env=clean_env(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_installed_check_passes_from_another_directory_and_fails_in_one_line(
    installed: Path, tmp_path: Path, fake: FakeTelegram
) -> None:
    fake.group(-1001234567890, "Coordinators", is_forum=True)
    fake.user(700100200, started=True)
    state, elsewhere = tmp_path / "state", tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = tmp_path / "kua.toml"
    config.write_text(
        f'[app]\ndata_dir = "{state / "data"}"\n'
        f'[telegram]\ntoken = "{fake.token}"\napi_base = "{fake.base_url}"\n'
        f'[security]\nkey_file = "{state / "keys" / "keys.json"}"\n'
        f"[coordination]\nchat_id = -1001234567890\non_call = [700100200]\n"
    )
    migrated = run_installed(installed, elsewhere, "-m", "bot.migrate", "upgrade", KUA_CONFIG=str(config))
    assert migrated.returncode == 0 and "(head)" in migrated.stdout, migrated.stderr
    assert (state / "data" / "kua.sqlite3").is_file()

    status, out = await run_installed_async(
        installed, elsewhere, "-m", "bot", "check", KUA_CONFIG=str(config)
    )
    assert status == 0, out
    assert [line.split()[0] for line in out.splitlines()] == ["ok", "ok", "warn", "ok", "ok", "ok"]

    # The same through the installed `kua` command.
    kua = installed.parent / "kua"
    status, out = await run_installed_async(
        kua, elsewhere, "check", KUA_CONFIG=str(config), KUA_TELEGRAM__MODE="pigeon"
    )
    assert status == 2
    assert len(out.splitlines()) == 1 and out.startswith("FAIL  config: telegram.mode"), out
