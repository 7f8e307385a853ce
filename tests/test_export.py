"""Exports: JSON valid against docs/export.schema.json, CSV readable by csv, nothing private
without --with-text (markers in every private field), the private answers with it, and every
export recorded — from the operator's command line and from /export in the bot."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest

from bot import cli_advocacy
from emulator import FakeTelegram
from services import export as export_service
from storage.db import upgrade_to_head
from storage.keys import load_crypto
from storage.models import CaseEvent, CaseMessage
from storage.repositories import Store
from tests.advocacy_fixtures import NOW, Seed, add_case, seed, seeded_store
from tests.harness import BotProcess, coordination_env, make_config, tr
from tests.storage_fixtures import BACKENDS

SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "docs" / "export.schema.json").read_text(encoding="utf-8")
)
MARK = "PRIVMARK"
PRIVATE = {
    "narrative": {"text": f"{MARK}-narrative Сына избили"},
    "facility_name": f"{MARK}-place ЕС-164/1",
    "perpetrator_names": f"{MARK}-names капитан Ержанов",
    "person_name": f"{MARK}-person Даурен Ахметов",
    "reprisal_details": f"{MARK}-reprisals угрожали",
}
ANSWER_MARKERS = tuple(f"{MARK}-{k}" for k in ("narrative", "place", "names", "person", "reprisals"))
ALWAYS_PRIVATE = (
    f"{MARK}-filename",
    f"{MARK}-filedata",
    f"{MARK}-note",
    f"{MARK}-message",
    "771234567",
)  # the reporter's chat id
CONTACT_CHAT = 771234567


def translate(msgid: str, locale: str) -> str:
    return tr(locale, msgid)


async def _seed_private(store: Store) -> None:
    """One case with a marker in every private place, and others plain or without consent."""
    case_id = await add_case(
        store,
        Seed("2026-03", private=PRIVATE, answers={"reprisals": "yes"}),
        files=[("photo", f"{MARK}-filedata".encode(), f"{MARK}-filename.jpg")],
        events=[
            ("take", {"from": "new"}),
            ("status", {"from": "in_progress", "to": "referred", "referral": "lawyer"}),
        ],
        contact_chat=CONTACT_CHAT,
    )
    async with store.cases._sessions() as session:  # noqa: SLF001 - test data
        session.add(
            CaseEvent(
                case_id=case_id,
                at=NOW,
                actor_kind="coordinator",
                actor_id=1,
                kind="note",
                text_enc=store.crypto.encrypt_text(f"{MARK}-note"),
            )
        )
        session.add(
            CaseMessage(
                case_id=case_id,
                direction="from_reporter",
                created_at=NOW,
                text_enc=store.crypto.encrypt_text(f"{MARK}-message"),
            )
        )
        await session.commit()
    await seed(
        store,
        [
            Seed("2026-04", region=None, methods="-", perpetrators="-"),
            Seed("2026-05", consent_stats=False, private=PRIVATE),
        ],
    )


async def run_export(
    store: Store, fmt: str, *, with_text: bool, since: str | None = None, until: str | None = None
) -> tuple[str, int]:
    out = io.StringIO()
    count = await export_service.write(
        store.stats,
        export_service.ExportRequest(
            fmt=fmt, since=since, until=until, with_text=with_text, actor_kind="operator"
        ),
        out,
        translate,
        now=NOW,
    )
    return out.getvalue(), count


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path):
    async with seeded_store(request.param, tmp_path, "export") as s:
        await _seed_private(s)
        yield s


async def test_json_without_text_validates_and_holds_nothing_private(store) -> None:
    text, count = await run_export(store, "json", with_text=False)
    data = json.loads(text)
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert count == data["count"] == 2  # the case without consent for anonymised use is out
    for marker in (*ANSWER_MARKERS, *ALWAYS_PRIVATE, MARK):
        assert marker not in text
    first = data["events"][0]
    assert first["acts"] == [{"method": "beating"}]
    assert first["place"] == {"kind": "sizo", "region": "karaganda"}
    assert "name" not in first["victim"] and "files" not in first
    assert first["source"]["attribution"] == "person"
    assert first["source"]["attribution_text"]["ru"] == tr(
        "ru", "According to the detained person, as told to the reporter"
    )
    assert [h["to"] for h in first["status_history"]] == ["in_progress", "referred"]
    assert data["events"][1]["place"]["region"] == "unknown"
    codes = {t["code"] for t in data["thesauri"]["region"]}
    assert {"karaganda", "unknown"} <= codes
    assert all(t["en"] and t["ru"] for terms in data["thesauri"].values() for t in terms)


async def test_json_with_text_has_the_private_answers_but_never_contact_or_files(store) -> None:
    text, count = await run_export(store, "json", with_text=True)
    data = json.loads(text)
    jsonschema.validate(data, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert count == 3 and data["with_text"] is True
    for marker in ANSWER_MARKERS:
        assert marker in text
    for marker in ALWAYS_PRIVATE:
        assert marker not in text
    marked = data["events"][0]
    assert marked["victim"]["name"].startswith(f"{MARK}-person")
    assert marked["files"] == [{"kind": "photo", "size": len(f"{MARK}-filedata")}]
    assert data["events"][2]["consent"]["stats"] is False


async def test_csv_opens_with_csv_and_has_the_same_codes(store) -> None:
    text, count = await run_export(store, "csv", with_text=False)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert count == len(rows) == 2
    assert rows[0]["event_id"] == "kua-1" and rows[0]["methods"] == "beating"
    assert rows[0]["region"] == "karaganda" and rows[1]["region"] == "unknown"
    assert rows[0]["knowledge"] == "person" and rows[0]["reported_on"] == "2026-03-10"
    assert MARK not in text and "771234567" not in text
    text, _count = await run_export(store, "csv", with_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["narrative"].startswith(f"{MARK}-narrative")
    for marker in ALWAYS_PRIVATE:
        assert marker not in text


async def test_the_period_selects_by_month_reported(store) -> None:
    _text, count = await run_export(store, "json", with_text=True, since="2026-04", until="2026-04")
    assert count == 1


async def test_every_export_is_recorded(store) -> None:
    await run_export(store, "json", with_text=False, since="2026-01")
    await run_export(store, "csv", with_text=True)
    rows = await store.stats.exports()
    assert [(r.format, r.with_text, r.since, r.case_count, r.actor_kind) for r in rows] == [
        ("json", False, "2026-01", 2, "operator"),
        ("csv", True, None, 3, "operator"),
    ]


# --- the operator's command line -----------------------------------------------------------------


def test_cli_export_and_stats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("KUA_APP__DATA_DIR", str(data_dir))
    monkeypatch.chdir(tmp_path)
    from bot.config import load_config

    config = load_config(require_token=False)

    async def prepare() -> None:
        await upgrade_to_head(config.database.url)
        from storage.db import make_engine, make_sessionmaker

        engine = make_engine(config.database.url)
        crypto, _ = load_crypto(config.security, config.data_dir)
        await _seed_private(Store(make_sessionmaker(engine), crypto))
        await engine.dispose()

    asyncio.run(prepare())
    out = tmp_path / "export.json"
    assert cli_advocacy.main(["export", "--format", "json", "--out", str(out)]) == 0
    exported = out.read_text(encoding="utf-8")
    jsonschema.validate(json.loads(exported), SCHEMA)
    assert MARK not in exported
    assert "exported 2 cases" in capsys.readouterr().err
    assert cli_advocacy.main(["export", "--format", "csv", "--with-text"]) == 0
    assert f"{MARK}-narrative" in capsys.readouterr().out
    assert cli_advocacy.main(["stats", "--since", "2026-01", "--until", "2026-12", "--format", "json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["total"] == "<5" and stats["period"] == {"since": "2026-01", "until": "2026-12"}
    assert cli_advocacy.main(["stats", "--format", "png", "--out", str(tmp_path / "png")]) == 0
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == [
        "by-method.png",
        "by-region.png",
        "cases-per-month.png",
    ]
    with pytest.raises(SystemExit):
        cli_advocacy.main(["export", "--format", "xml"])


# --- /export in the bot --------------------------------------------------------------------------

ADMIN = 770022001
COORD = 770022002
GROUP = -1004400110077


async def test_export_command_for_admins_in_private(fake: FakeTelegram, tmp_path: Path) -> None:
    fake.group(GROUP, "Coordinators", members={ADMIN: "member", COORD: "member"})
    kua = BotProcess(
        make_config(
            fake,
            tmp_path,
            **coordination_env(GROUP, (COORD,), (ADMIN,), KUA_COORDINATION__PRIVATE_VIEW_MINUTES="3"),
        ),
        fake,
    )
    await kua.start()
    try:
        assert kua.app is not None
        await _seed_private(kua.app.store)
        admin, coordinator = fake.user(ADMIN), fake.user(COORD)
        await coordinator.send_text("/export json")
        await kua.settle()
        assert coordinator.last_bot_message().text == tr(
            "ru", "Only administrators can export, in a private chat with the bot."
        )
        await admin.send_text("/export xml")
        await kua.settle()
        assert "/export json" in admin.last_bot_message().text
        await admin.send_text("/export json 2026-01 2026-12")
        await kua.settle()
        document = admin.last_bot_message()
        assert document.data is not None
        data = json.loads(document.data)
        jsonschema.validate(data, SCHEMA)
        assert data["count"] == 2 and MARK not in document.data.decode()
        call = fake.calls("sendDocument")[-1]
        assert call.params.get("protect_content") is True
        exports = await kua.app.store.stats.exports()
        assert [(e.actor_kind, e.actor_id, e.case_count) for e in exports] == [("admin", ADMIN, 2)]
        # Deleted after private_view_minutes.
        kua.clock.advance(seconds=3 * 60 + 5)
        fake.advance(3 * 60 + 5)
        for _ in range(100):
            await kua.settle()
            if fake.find_message(ADMIN, document.message_id).deleted:
                break
            await asyncio.sleep(0.05)
        assert fake.find_message(ADMIN, document.message_id).deleted
    finally:
        await kua.stop()
