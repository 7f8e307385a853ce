from __future__ import annotations

from tests.harness import Reporter


async def test_start_offers_languages(reporter: Reporter) -> None:
    await reporter.command("start")
    buttons = reporter.screen().buttons()
    assert [d for _t, d in buttons] == ["l1:ru", "l1:kk", "l1:en"]
