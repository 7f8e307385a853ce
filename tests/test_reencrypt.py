"""Re-encryption after a key rotation (storage/reencrypt.py): every encrypted column is found,
every value is rewritten under the new first key and reads with it alone, the old key alone no
longer reads anything, an unreadable value is counted and left as it was — SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey
from cryptography.fernet import InvalidToken
from sqlalchemy import LargeBinary, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.crypto import Crypto
from storage.db import load_models, make_sessionmaker, upgrade
from storage.fsm import SQLAlchemyStorage
from storage.models import Case
from storage.reencrypt import check_first_key, encrypted_columns, reencrypt
from storage.repositories import Consent, Store, Submission
from tests.sample import FULL_ANSWERS
from tests.storage_fixtures import BACKENDS, FakeClock, isolated_engine

SECRET = "test-hmac-secret-" + "x" * 32
KEY = StorageKey(bot_id=1, chat_id=5150, user_id=5150)
NARRATIVE = "REENCRYPT-NARRATIVE: he was beaten in the IVS"


@pytest.fixture(params=BACKENDS)
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with isolated_engine(request.param, tmp_path, "reencrypt") as engine:
        await upgrade(engine)
        yield engine


def test_every_binary_column_of_the_schema_is_known_as_encrypted() -> None:
    """A new binary column must be named *_enc (or be listed): else a rotation would leave it
    under the old key, and retiring that key would lose it."""
    binary = {
        f"{t.name}.{c.name}"
        for t in load_models().sorted_tables
        for c in t.columns
        if isinstance(c.type, LargeBinary)
    }
    assert binary == {f"{c.table.name}.{c.name}" for c in encrypted_columns()}
    assert {"cases.private_enc", "attachments.content_enc", "fsm_records.data"} <= binary


async def _stored_under(engine: AsyncEngine, crypto: Crypto) -> int:
    store = Store(make_sessionmaker(engine), crypto, FakeClock())
    ref = store.attachments.new_draft_ref()
    await store.attachments.add(
        ref, kind="photo", mime_type="image/jpeg", file_name="IMG_1.jpg", data=b"\xff\xd8pic"
    )
    answers = {**FULL_ANSWERS, "narrative": {"text": NARRATIVE}}
    case = await store.cases.submit(
        7, 7, Submission(answers=answers, consent=Consent(), draft_ref=ref, locale="ru")
    )
    await store.casework.message_to_reporter(case.id, 99, "A question for the reporter")
    await SQLAlchemyStorage(make_sessionmaker(engine), crypto).set_data(KEY, {"narrative": NARRATIVE})
    return case.id


async def _readable_with(engine: AsyncEngine, crypto: Crypto, case_id: int) -> None:
    store = Store(make_sessionmaker(engine), crypto, FakeClock())
    assert (await store.cases.private_answers(case_id))["narrative"] == {"text": NARRATIVE}
    [stored] = await store.attachments.for_case(case_id)
    assert await store.attachments.content(stored.id) == b"\xff\xd8pic"
    assert await SQLAlchemyStorage(make_sessionmaker(engine), crypto).get_data(KEY) == {
        "narrative": NARRATIVE
    }


async def test_after_reencryption_the_new_key_alone_reads_everything_and_the_old_one_nothing(
    engine: AsyncEngine,
) -> None:
    old, new = Crypto.generate_key(), Crypto.generate_key()
    case_id = await _stored_under(engine, Crypto([old], SECRET))
    rotated = Crypto([new, old], SECRET)
    before = await check_first_key(engine, rotated)
    assert before.total == 0 and sum(before.failed.values()) >= 5  # all still under the old key

    outcome = await reencrypt(engine, rotated)
    assert outcome.done["cases.private_enc"] == 1 and outcome.done["attachments.content_enc"] == 1
    assert outcome.done["fsm_records.data"] == 1 and outcome.done["case_messages.text_enc"] == 1
    assert not any(outcome.failed.values())

    after = await check_first_key(engine, rotated)
    assert after.total == outcome.total and not any(after.failed.values())
    await _readable_with(engine, Crypto([new], SECRET), case_id)
    with pytest.raises(InvalidToken):
        await _readable_with(engine, Crypto([old], SECRET), case_id)
    # Run again (an interrupted run is simply repeated): still all readable.
    await reencrypt(engine, rotated)
    await _readable_with(engine, Crypto([new], SECRET), case_id)


async def test_a_value_no_key_opens_is_counted_and_left_as_it_was(engine: AsyncEngine) -> None:
    old, new = Crypto.generate_key(), Crypto.generate_key()
    case_id = await _stored_under(engine, Crypto([old], SECRET))
    foreign = Crypto([Crypto.generate_key()], SECRET).encrypt_text("written under a lost key")
    async with engine.begin() as conn:
        await conn.execute(update(Case).where(Case.id == case_id).values(contact_enc=foreign))
    outcome = await reencrypt(engine, Crypto([new, old], SECRET))
    assert outcome.failed["cases.contact_enc"] == 1 and outcome.done["cases.private_enc"] == 1
    checked = await check_first_key(engine, Crypto([new, old], SECRET))
    assert checked.failed == {name: (1 if name == "cases.contact_enc" else 0) for name in checked.failed}
