"""Topics once: the forum topic created for a case is recorded before its card is posted, so a
card repeated by another worker (after a crash or restart) reuses it."""

from __future__ import annotations

from emulator import FakeGroup, FakeTelegram
from tests.test_delivery import (  # noqa: F401 - fixtures
    FORUM_ID,
    _quick_worker,
    cards,
    forum,
    running,
    submit,
    until,
)


async def test_a_topic_is_recorded_before_the_card_and_a_new_worker_reuses_it(
    fake: FakeTelegram,
    forum: FakeGroup,  # noqa: F811 - the fixture imported above
    running,  # noqa: F811 - the fixture imported above
) -> None:
    fake.drop_next("sendMessage")  # the card's first try never arrives
    kua = await running(FORUM_ID)
    case_id = await submit(kua.app.store, urgent=False)
    await until(lambda: fake.calls("sendMessage"), what="the card's first try")
    view = await kua.app.store.casework.get(case_id)
    assert view is not None and len(forum.topics) == 1
    assert (view.group_chat_id, view.topic_id, view.card_message_id) == (
        FORUM_ID,
        forum.topics[0].message_thread_id,
        None,
    )
    await kua.restart()  # another worker, nothing in memory
    await until(lambda: cards(fake, FORUM_ID).get(case_id), timeout=9, what="the card")
    assert len(forum.topics) == 1
    assert cards(fake, FORUM_ID)[case_id][0].message_thread_id == forum.topics[0].message_thread_id
