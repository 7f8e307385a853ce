"""The demo in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright.

`python -m emulator.demo` runs as a process, exactly as scripts/demo.sh starts it; the test then
only uses the page. A reporter chooses a language, makes a short report by pressing buttons,
typing and sending a photo from the computer, and sees the case code; a coordinator finds the
card in its topic, takes the case and replies; the reporter reads the news. A screenshot is
written for a person to look at, and the page must have logged no JavaScript error, nor the
emulator any request Telegram would reject.

Buttons are found by their visible text (exact first, else contained), newest message first, so
relabelling a button means changing one string here.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
WAIT_MS = 60_000  # the longest a step may take on a busy machine (the card comes from a worker)

pytestmark = pytest.mark.browser


def _require_chromium() -> None:
    """Skip where Chromium is simply not installed; in CI its absence is a failure."""
    if Path(CHROMIUM).exists():
        return
    reason = (
        f"Debian's chromium is not installed ({CHROMIUM} is missing): "
        "apt-get install chromium to run the browser test"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; .ci/run should have installed it")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DemoProcess:
    process: subprocess.Popen[str]
    url: str = ""
    workdir: Path | None = None
    output: list[str] = field(default_factory=list)


@pytest.fixture
def demo() -> Iterator[DemoProcess]:
    _require_chromium()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUA_")}
    env["KUA_DEMO_PORT"] = str(port)
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator.demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = DemoProcess(process)
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            running.output.append(line)
            found = re.search(r"open (http://127\.0\.0\.1:\d+/).*Data: (\S+) \(removed", line)
            if found:
                running.url, running.workdir = found[1], Path(found[2])
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(120) or not running.url:
            raise AssertionError("the demo did not start:\n" + "".join(running.output))
        yield running
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl-C does
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(10)
        assert process.stdout is not None
        process.stdout.close()
    assert process.returncode == 0, "".join(running.output)
    assert running.workdir is not None and not running.workdir.exists(), "demo data was left behind"


class Walk:
    """A person at the demo page, with small helpers that survive relabelling."""

    def __init__(self, page: Any, url: str) -> None:
        self.page = page
        self.url = url

    def phone(self, name: str) -> Any:
        return self.page.locator(f"#phone-{name}")

    def settle(self) -> None:
        """Until the bot is idle and the page shows everything up to then."""
        answer = self.page.request.get(self.url + "api/idle", timeout=WAIT_MS)
        assert answer.ok, answer.text()
        seq = answer.json()["seq"]
        self.page.wait_for_function(
            "s => Number(document.body.dataset.seq || 0) >= s", arg=seq, timeout=WAIT_MS
        )

    def be(self, label: str) -> None:
        self.page.locator(".people button", has_text=re.compile(f"^{re.escape(label)}$")).click()

    def press(self, phone: str, text: str) -> None:
        """Press the button labelled ``text`` (exactly, else containing it) on the newest message
        of that phone that has one."""
        where = self.phone(phone)
        keyboards = where.locator(".kb")
        for index in reversed(range(keyboards.count())):
            for exact in (True, False):
                button = keyboards.nth(index).get_by_role("button", name=text, exact=exact)
                if button.count():
                    button.first.click()
                    self.settle()
                    return
        shown = where.locator(".kb button").all_inner_texts()
        raise AssertionError(f"no button {text!r} in the {phone} phone; buttons: {shown}")

    def type(self, phone: str, text: str) -> None:
        box = self.phone(phone).locator("textarea")
        box.fill(text)
        box.press("Enter")
        self.settle()

    def send_file(self, phone: str, button: str, path: Path) -> None:
        with self.page.expect_file_chooser() as chooser:
            self.phone(phone).get_by_role("button", name=button, exact=True).click()
        chooser.value.set_files(str(path))
        self.settle()

    def shows(self, phone: str, text: str | re.Pattern[str]) -> None:
        """Wait until that phone shows the text."""
        self.phone(phone).locator(".messages").get_by_text(text).last.wait_for(timeout=WAIT_MS)

    def toast(self, phone: str) -> str:
        """The newest answer the bot gave to a button press there (a toast on the phone)."""
        return str(self.phone(phone).locator('[data-role="toast"]').text_content())

    def text(self, phone: str) -> str:
        return str(self.phone(phone).locator(".messages").inner_text())


def test_a_report_made_in_the_browser_reaches_a_coordinator_who_replies(demo: DemoProcess) -> None:
    from playwright.sync_api import sync_playwright

    shots = Path(tempfile.mkdtemp(prefix="kua-demo-shot-"))
    picture = shots / "bruise.png"
    Image.new("RGB", (64, 48), (150, 60, 80)).save(picture)
    problems: list[str] = []
    profile = tempfile.mkdtemp(prefix="kua-chromium-")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 1000},
            )
            try:
                page = browser.new_page()
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda error: problems.append(str(error)))
                walk = Walk(page, demo.url)
                page.goto(demo.url)
                page.locator("#status.live").wait_for(timeout=WAIT_MS)
                assert "Nothing leaves this computer" in page.locator(".banner").inner_text()
                _check_renderer(page)
                _journey(walk, picture)
                screenshot = shots / "demo-after-journey.png"
                page.screenshot(path=str(screenshot), full_page=True)
                print(f"\nscreenshot of the demo page: {screenshot}")
                assert page.locator("#error-count").inner_text() == "0", page.locator("#errors").inner_text()
            finally:
                browser.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert problems == [], f"JavaScript console errors: {problems}"


def _journey(walk: Walk, picture: Path) -> None:
    # A reporter whose Telegram app is in Kazakh starts the bot and picks English.
    walk.be("Reporter A")
    walk.page.locator("#phone-reporter select").select_option("kk")
    walk.settle()
    walk.phone("reporter").get_by_role("button", name="START").click()
    walk.settle()
    walk.press("reporter", "English")
    walk.press("reporter", "Report ill-treatment")
    walk.press("reporter", "Start the report")
    for answer in (
        "Mother or father",
        "Yes",
        "Ill-treatment is still going on",
        "Done",
        "Pre-trial detention (SIZO)",
        "Don't know",
    ):
        walk.press("reporter", answer)
    walk.type("reporter", "SIZO-1 (demo)")
    for answer in ("This week", "Yes", "Beating", "Done"):
        walk.press("reporter", answer)
    walk.type("reporter", "DEMO-NARRATIVE: beaten during questioning")
    for answer in (
        "The person told me",
        "Police or investigators",
        "Done",
        "Skip",
        "Don't know",
        "Don't know",
        "I'll tell the coordinator later",
        "Don't know",
        "Prefer not to say",
        "Don't know",
        "Don't know",
        "Don't know",
    ):
        walk.press("reporter", answer)
    walk.send_file("reporter", "Photo", picture)
    walk.press("reporter", "Done")
    walk.press("reporter", "Yes")  # coordinators may write back
    walk.press("reporter", "No")  # notifications with sound
    walk.press("reporter", "Send the report")
    walk.shows("reporter", CODE)
    # The code goes once the reporter has noted it: one neutral line stays in the chat.
    walk.press("reporter", "I have saved the code")
    assert not CODE.search(walk.text("reporter"))

    # A coordinator finds the card in the case's own topic, takes it and replies.
    walk.be("Coordinator 1")
    tab = walk.phone("group").locator(".topics button", has_text="#1")
    tab.wait_for(timeout=WAIT_MS)
    tab.click()
    walk.shows("group", re.compile(r"Case #1"))
    walk.press("group", "Take")
    walk.shows("group", "In progress")
    # A group member without a role is refused, visibly, and learns nothing.
    walk.be("Outsider")
    walk.press("group", "Open")
    assert "not available" in walk.toast("group")
    assert "DEMO-NARRATIVE" not in walk.text("staff")
    walk.be("Coordinator 1")
    walk.press("group", "Reply to reporter")
    walk.shows("staff", "Write your message for the reporter")
    walk.type("staff", "DEMO-REPLY: did a doctor see him? <b>not markup</b>")
    walk.shows("staff", "This will be sent to the reporter")
    # What a person typed is shown as typed, never as markup.
    assert "<b>not markup</b>" in walk.text("staff")
    walk.press("staff", "Send")

    # The reporter gets a neutral notice and reads the news on tap.
    walk.be("Reporter A")
    walk.shows("reporter", "You have something new.")
    assert "DEMO-REPLY" not in walk.text("reporter")
    walk.press("reporter", "Read")
    walk.shows("reporter", "DEMO-REPLY: did a doctor see him?")


def _check_renderer(page: Any) -> None:
    """Telegram entities become only Telegram's formatting; text never becomes markup."""
    html = page.evaluate("""() => formatted("a<i>b</i> c link", [
        {type: "bold", offset: 0, length: 1},
        {type: "text_link", offset: 12, length: 4, url: "javascript:alert(1)"},
        {type: "italic", offset: 10, length: 6}]).innerHTML""")
    assert html == "<b>a</b>&lt;i&gt;b&lt;/i&gt; <i>c <u>link</u></i>", html
    nested = page.evaluate("""() => formatted("quote bold", [
        {type: "blockquote", offset: 0, length: 10},
        {type: "bold", offset: 6, length: 4},
        {type: "text_link", offset: 0, length: 5, url: "https://example.org/"}]).innerHTML""")
    assert nested == (
        '<blockquote><a href="https://example.org/" target="_blank" '
        'rel="noopener noreferrer" title="https://example.org/">quote</a> '
        "<b>bold</b></blockquote>"
    ), nested
