"""deploy/: the compose file, the Dockerfile and the systemd unit say what the README promises.

`docker compose config` validates the compose file where Docker Compose is installed; everywhere
else (CI has the docker client at most, no engine) the structure is checked here.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def volumes_of(service: dict[str, Any]) -> dict[str, str]:
    """Named volume → mount point, for the short syntax used here."""
    mounts = {}
    for entry in service.get("volumes", []):
        source, target = entry.split(":")[:2]
        if not source.startswith((".", "/")):
            mounts[source] = target
    return mounts


def test_compose_runs_the_bot_with_postgresql_and_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"bot", "postgres", "redis", "migrate"} <= set(services)
    bot = services["bot"]
    env = bot["environment"]
    assert env["KUA_DATABASE__URL"].startswith("postgresql+asyncpg://kua:${POSTGRES_PASSWORD")
    assert env["KUA_DATABASE__URL"].endswith("@postgres:5432/kua")
    assert env["KUA_REDIS__URL"] == "redis://redis:6379/0"
    # Started only once the schema is migrated and both services answer their health checks.
    assert bot["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert services["migrate"]["command"] == ["python", "-m", "bot.migrate", "upgrade"]
    for name in ("bot", "postgres", "redis"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    assert bot["healthcheck"]["test"] == ["CMD", "python", "-m", "bot", "check", "--quick"]


def test_the_keys_live_on_their_own_volume_never_beside_the_database(compose: dict[str, Any]) -> None:
    services = compose["services"]
    bot, postgres = volumes_of(services["bot"]), volumes_of(services["postgres"])
    key_file = services["bot"]["environment"]["KUA_SECURITY__KEY_FILE"]
    [keys_volume] = [name for name, target in bot.items() if key_file.startswith(target + "/")]
    assert keys_volume not in postgres
    assert set(postgres) == {"db"} and "db" not in bot
    assert set(compose["volumes"]) >= {"db", keys_volume}
    for name, service in services.items():  # no other service sees the keys
        if name != "bot":
            assert keys_volume not in volumes_of(service), name


def test_no_secret_is_written_into_the_compose_file(compose: dict[str, Any]) -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    assert "${POSTGRES_PASSWORD:?" in text
    assert compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${")
    assert "KUA_TELEGRAM__TOKEN" not in text  # it comes from deploy/.env
    ignored = (DEPLOY.parent / ".gitignore").read_text().splitlines()
    assert "deploy/.env" in ignored


@pytest.mark.skipif(
    subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0
    if shutil.which("docker")
    else True,
    reason="Docker Compose is not installed",
)
def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    env = {**os.environ, "POSTGRES_PASSWORD": "check"}
    result = subprocess.run(
        [
            "docker",
            "compose",
            "-f",
            str(DEPLOY / "compose.yaml"),
            "--env-file",
            str(DEPLOY / "env.example"),
            "config",
            "--quiet",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_the_image_is_slim_unprivileged_pinned_and_health_checked() -> None:
    lines = [
        line.strip()
        for line in (DEPLOY / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    froms = [line for line in lines if line.startswith("FROM ")]
    assert froms and all(line.startswith("FROM python:3.11-slim") for line in froms)
    final = lines[lines.index(froms[-1]) :]
    assert any(line == "USER kua" for line in final)
    assert any("-r /src/requirements/base.txt" in line for line in lines)
    assert any("pip install --no-deps /src" in line for line in lines)
    health = next(i for i, line in enumerate(final) if line.startswith("HEALTHCHECK"))
    assert '"bot", "check", "--quick"' in final[health + 1]
    assert final[-1] == 'CMD ["python", "-m", "bot"]'
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert {".venv", "data", "keys", "config.toml"} <= set(ignore)


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DEPLOY / "kua.service")
    return parser


def test_the_systemd_unit_is_hardened_and_keeps_keys_apart() -> None:
    service = unit()["Service"]
    assert service["DynamicUser"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["NoNewPrivileges"] == "yes"
    assert service["CapabilityBoundingSet"] == ""
    assert service["StateDirectory"].split() == ["kua", "kua-keys"]
    assert service["WorkingDirectory"] == "/var/lib/kua"
    assert "KUA_SECURITY__KEY_FILE=/var/lib/kua-keys/keys.json" in service["Environment"].split("\n")
    assert service["RestartPreventExitStatus"] == "2"  # a config error is not fixed by restarting
    assert service["ExecStartPre"].endswith("-m bot.migrate upgrade")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    # verify also checks that the programs exist: point it at this interpreter.
    text = (DEPLOY / "kua.service").read_text().replace("/opt/kua/bin/python", sys.executable)
    (tmp_path / "kua.service").write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "kua.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
