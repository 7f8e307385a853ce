"""Imports point one way: bot → handlers → use cases → storage → domain, and no circles; texts
live with the views (handlers/), domain/ holding msgids as data only.

The order is written once, in scripts/layers.py (LAYERS); these tests run that checker on the
tree, and on small planted trees to show that it does catch what it must.
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path
from textwrap import dedent
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kua_layers", ROOT / "scripts" / "layers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


layers = _load_checker()


def plant(root: Path, files: dict[str, str]) -> Path:
    """A tree with every package of the layering (empty) plus the given files."""
    for package in layers.PACKAGES:
        (root / package).mkdir(parents=True, exist_ok=True)
        (root / package / "__init__.py").write_text("")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not (path.parent / "__init__.py").exists():
            (path.parent / "__init__.py").write_text("")
        path.write_text(dedent(text), encoding="utf-8")
    return root


def texts(root: Path) -> list[str]:
    return [finding.text for finding in layers.check(root)]


def test_the_tree_imports_one_way() -> None:
    findings = texts(ROOT)
    assert findings == [], "\n".join(findings)


def test_every_installed_package_has_a_place_in_the_layers() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    included = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*") for pattern in included} - {"locales"}  # locales: data only
    assert packages == set(layers.PACKAGES)
    order = ["domain", "storage", "services", "handlers", "bot"]
    assert [layers.RANK[p] for p in order] == sorted(layers.RANK[p] for p in order)


def test_downward_imports_and_imports_within_a_layer_are_fine(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "bot/app.py": "import handlers.start\nfrom storage import db\nfrom bot.config import X\n",
            "bot/config.py": "from domain.values import LOCALES\n",
            "handlers/start.py": "from services import submit\nfrom handlers.report import flow\n",
            "handlers/report/flow.py": "from ..settings import Config\n",  # relative, same layer
            "handlers/settings.py": "",
            "services/submit.py": "from services import stats\nfrom storage.db import Store\n",
            "services/stats.py": "from domain.values import LOCALES\n",
            "storage/db.py": "from domain import values\n",
            "domain/values.py": "LOCALES = ()\n",
        },
    )
    assert texts(root) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"domain/card.py": "from storage.casework import CaseView\n"}, "up: domain/card.py"),
        ({"storage/keys.py": "from bot.config import ConfigError\n"}, "up: storage/keys.py"),
        ({"handlers/start.py": "import bot.i18n\n"}, "up: handlers/start.py"),
        ({"services/stats.py": "from handlers import stats\n"}, "up: services/stats.py"),
        ({"services/spam.py": "from handlers.errors import x\n"}, "up: services/spam.py"),
        # Hidden imports count too: inside a function, or only for the type checker.
        (
            {"storage/migrate.py": "def url():\n    from bot.config import load_config\n"},
            "up: storage/migrate.py",
        ),
        (
            {
                "domain/card.py": """
                    from typing import TYPE_CHECKING
                    if TYPE_CHECKING:
                        from storage.casework import CaseView
                """
            },
            "up: domain/card.py",
        ),
        # Relative imports resolve like absolute ones.
        ({"storage/sub/deep.py": "from ...handlers import start\n"}, "up: storage/sub/deep.py"),
        # The emulator stands apart, in both directions.
        ({"emulator/server.py": "from bot.app import App\n"}, "apart: emulator/server.py"),
        ({"bot/demo.py": "import emulator.server\n"}, "apart: bot/demo.py"),
    ],
)
def test_an_upward_import_is_found(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    targets = {
        "storage/casework.py": "",
        "bot/config.py": "",
        "bot/i18n.py": "",
        "bot/app.py": "",
        "handlers/stats.py": "",
        "handlers/errors.py": "",
        "handlers/start.py": "",
        "emulator/server.py": "",
    }
    root = plant(tmp_path, {**targets, **files})
    findings = texts(root)
    assert len(findings) == 1 and findings[0].startswith(expected), findings


def test_a_circle_is_found_in_a_layer_and_across_packages(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "bot/app.py": "def run():\n    from bot.webhook import serve\n",
            "bot/webhook.py": "from bot.app import App\n",
            "handlers/evidence.py": "def back():\n    from handlers.followup import show_case\n",
            "handlers/followup/__init__.py": "from handlers.evidence import receipt_button\n",
            "bot/workers.py": "",
        },
    )
    findings = texts(root)
    assert len(findings) == 2, findings
    assert all(f.startswith("circle: ") for f in findings)
    assert "bot/app.py" in findings[0] and "bot/webhook.py" in findings[0]
    assert "handlers/evidence.py" in findings[1] and "handlers/followup/__init__.py" in findings[1]


def test_the_script_exits_1_on_a_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = plant(tmp_path, {"domain/a.py": "import bot\n"})
    monkeypatch.setattr(layers, "ROOT", root)
    monkeypatch.setattr(layers.check, "__defaults__", (root,))
    assert layers.main() == 1
    plant(tmp_path, {"domain/a.py": "from domain import b\n", "domain/b.py": ""})
    assert layers.main() == 0


# --- texts live with the views -------------------------------------------------------------------


def test_texts_declared_and_translated_where_the_views_are_are_fine(tmp_path: Path) -> None:
    root = plant(
        tmp_path,
        {
            "domain/questionnaire.py": 'from domain.i18n import N_\nTITLE = N_("Where")\n',
            "handlers/common.py": (
                "from aiogram.utils.i18n import gettext as _\n"
                'SLOW = N_("Slow down")\n'
                'def menu():\n    return _("Main menu")\n'
            ),
            "bot/flood.py": (
                "from aiogram.utils.i18n import I18n\nfrom handlers.common import SLOW\n"
                "def say(i18n):\n    return i18n.gettext(SLOW, locale='kk')\n"
            ),
        },
    )
    assert texts(root) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {"services/spam.py": 'BLOCKED = N_("Not now")\n'},
            "text: services/spam.py (1 lines) line 1 declares",
        ),
        ({"bot/callbacks.py": 'def stale():\n    return _("Out of date")\n'}, "text: bot/callbacks.py"),
        ({"storage/casework.py": 'X = gettext("Taken")\n'}, "text: storage/casework.py"),
        (
            {"domain/render.py": "from aiogram.utils.i18n import gettext as _\ndef t(m):\n    return _(m)\n"},
            "text: domain/render.py (3 lines) line 1 imports gettext",
        ),
        ({"services/sheet.py": "def t(i18n, m):\n    return i18n.gettext(m)\n"}, "translates"),
    ],
)
def test_a_text_outside_the_views_is_found(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    findings = texts(plant(tmp_path, files))
    assert findings and all(f.startswith("text: ") for f in findings), findings
    assert any(expected in f for f in findings), findings


# --- config is read once at the top, and handlers get their slice --------------------------------

TOKEN = "123456789:AAHk-secret_TOKEN_value"


def test_handlers_are_given_their_slice_of_the_config_not_the_token(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from aiogram.fsm.storage.memory import MemoryStorage
    from cryptography.fernet import Fernet

    from bot.app import build_dispatcher
    from bot.config import load_config
    from bot.i18n import make_i18n
    from handlers.settings import Config as HandlerConfig
    from storage.crypto import Crypto

    secrets = {
        "KUA_TELEGRAM__TOKEN": TOKEN,
        "KUA_TELEGRAM__WEBHOOK_SECRET": "whsecret",
        "KUA_SECURITY__HMAC_SECRET": "h" * 40,
        "KUA_DATABASE__URL": "postgresql://kua:pa55word@db/kua",
    }
    config = load_config(secrets, tmp_path)
    store = SimpleNamespace(crypto=Crypto([Fernet.generate_key().decode()], "h" * 40))
    dp = build_dispatcher(config, store, MemoryStorage(), make_i18n("ru"))  # type: ignore[arg-type]

    given = dp["config"]  # what every handler's `config` parameter receives
    assert isinstance(given, HandlerConfig)
    assert given.coordination is config.coordination and given.limits is config.limits
    for section in ("telegram", "security", "database", "redis", "logging"):
        assert not hasattr(given, section), section
    for secret in ("whsecret", "h" * 40, "pa55word", TOKEN):
        assert secret not in repr(given)
