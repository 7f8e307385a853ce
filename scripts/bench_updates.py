"""Kua and a bare aiogram bot, side by side, on the same fake Bot API with the same driver.

    .venv/bin/python scripts/bench_updates.py [--seconds 8] [--drafts 0] [--rates 10,25,50,100] [--no-queue]

Run from the repository root (scripts/bench.py runs it too). Each bot runs as its own process
(Kua: ``python -m bot`` on SQLite, as deployed; the bare bot: scripts/bench_bare_bot.py, aiogram with
MemoryStorage, same venv), polling its own emulator.FakeTelegram. The driver is the same for
both: reporters pressing the buttons of their window, each waiting for the bot's reply (its
first editMessageText/sendMessage to that chat) before the next tap.

Printed, for each bot: saturation (16 reporters tapping as fast as the bot answers), the bot
process's CPU-ms per update (utime+stime from /proc/<pid>/stat over that phase), p50/p99 of
the reply at offered rates of 10/25/50/100 updates/s (Poisson arrivals over a pool of
reporters; latency from the scheduled arrival, so queueing counts), RSS at start and at the end
(and with --drafts N live drafts), and for Kua the SQL statements and commits per update on the
report path (counted in an in-process run: tests.harness.counting), and the CPU of the loop's
thread alone; then /queue and its filters at 100,000 open cases on SQLite, alone and during a
reminder round (scripts/bench_queue.py; --no-queue skips it). Figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from emulator import FakeTelegram, FakeUser  # noqa: E402
from handlers.report.keyboards import Ans, ConsentAct, ConsentCb, Nav, NavAct  # noqa: E402

RATES = (10, 25, 50, 100)
CONCURRENT = 16
POOL = 64
TICK = os.sysconf("SC_CLK_TCK")


# --- process figures ---------------------------------------------------------------------------


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """CPU of the whole process, or of one of its threads (the main thread's tid is the pid)."""
    where = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    fields = Path(where).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def pct(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000


# --- replies -----------------------------------------------------------------------------------


class Replies(list):  # type: ignore[type-arg]
    """fake.requests, telling waiters when the bot has written to a chat (edit*/send*)."""

    def __init__(self, items: Sequence[Any]) -> None:
        super().__init__(items)
        self.waiting: dict[int, asyncio.Future[float]] = {}
        self.fresh: list[Any] = []  # the fake fills in chat_id while serving the request

    def append(self, record: Any) -> None:
        super().append(record)
        if record.method.startswith(("edit", "send")):
            self.fresh.append(record)

    def served(self) -> None:
        now = time.perf_counter()
        keep = []
        for record in self.fresh:
            if record.chat_id is None and record.status is None:
                keep.append(record)
                continue
            future = self.waiting.pop(record.chat_id, None) if isinstance(record.chat_id, int) else None
            if future is not None and not future.done():
                future.set_result(now)
        self.fresh = keep

    def expect(self, chat_id: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[chat_id] = future
        return future


def watched_fake() -> tuple[FakeTelegram, Replies]:
    """A FakeTelegram whose requests are watched (patched before it starts serving)."""
    fake = FakeTelegram()
    replies = Replies([])
    fake.requests = replies
    serve = fake._serve_api  # noqa: SLF001 - benchmark instrumentation

    async def watched(request: Any) -> Any:
        try:
            return await serve(request)
        finally:
            replies.served()

    fake._serve_api = watched  # type: ignore[method-assign]  # noqa: SLF001
    return fake, replies


Step = Callable[[FakeUser], Awaitable[Any]]


def kua_script() -> tuple[list[Step], list[Step]]:
    """Kua: /start, language, Report, consent; then answering the first question and going back."""

    def press(data: str) -> Step:
        return lambda user: user.press_data(data)

    setup = [
        lambda user: user.send_command("start"),
        press("l1:en"),
        press("m1:report"),
        press(ConsentCb(act=ConsentAct.START).pack()),
    ]
    loop = [press(Ans(q="relation", v="self").pack()), press(Nav(q="danger", act=NavAct.BACK).pack())]
    return setup, loop


def _press_answer(user: FakeUser, *, n: int) -> Any:
    return user.press_data(f"a:{n}:1")


def bare_script() -> tuple[list[Step], list[Step]]:
    setup: list[Step] = [lambda user: user.send_command("start")]
    loop: list[Step] = [partial(_press_answer, n=n) for n in range(2)]
    return setup, loop


@dataclass
class Reporter:
    user: FakeUser
    loop: list[Step]
    n: int = 0

    async def next(self, replies: Replies, started: float | None = None) -> float:
        step = self.loop[self.n % len(self.loop)]
        self.n += 1
        return await tap(replies, self.user, step, started)


async def tap(replies: Replies, user: FakeUser, step: Step, started: float | None = None) -> float:
    reply = replies.expect(user.id)
    began = time.perf_counter() if started is None else started
    await step(user)
    return await asyncio.wait_for(reply, 30) - began


# --- one bot -----------------------------------------------------------------------------------


@dataclass
class Figures:
    name: str
    rss_start: float = math.nan
    rss_end: float = math.nan
    rss_drafts: float = math.nan
    saturation: float = math.nan
    cpu_ms: float = math.nan
    cpu_main_ms: float = math.nan  # of which the event loop's thread (the rest: SQLite's threads)
    rates: dict[int, tuple[float, float, int]] = field(default_factory=dict)  # p50, p99, failed
    failed: int = 0


async def start_process(fake: FakeTelegram, argv: list[str], env: dict[str, str], cwd: Path) -> Any:
    polls = len(fake.calls("getUpdates"))
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    for _ in range(3000):
        if len(fake.calls("getUpdates")) > polls:
            return process
        if process.returncode is not None:
            err = b"" if process.stderr is None else await process.stderr.read()
            raise RuntimeError(err.decode()[-2000:])
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{argv} did not start polling")


async def run_bot(
    name: str,
    fake: FakeTelegram,
    process: Any,
    script: tuple[list[Step], list[Step]],
    args: argparse.Namespace,
) -> Figures:
    figures = Figures(name)
    replies = fake.requests
    assert isinstance(replies, Replies)
    setup, loop = script
    await asyncio.sleep(1.0)  # start-up finished (commands, descriptions)
    figures.rss_start = rss_mb(process.pid)
    users = [fake.user(500_000_000 + n, first_name=f"R{n}", language_code="en") for n in range(POOL)]
    reporters = [Reporter(user, loop) for user in users]
    gate = asyncio.Semaphore(CONCURRENT)

    async def prepare(user: FakeUser) -> None:
        async with gate:
            for step in setup:
                await tap(replies, user, step)
                await asyncio.sleep(0.01)  # the rest of the bot's reply (e.g. a second message)

    await asyncio.gather(*(prepare(u) for u in users))
    for r in reporters[:CONCURRENT]:  # warm-up
        await r.next(replies)

    # Saturation: 16 reporters, each tapping again as soon as the bot answered.
    done = 0
    failed = 0
    stop_at = time.perf_counter() + args.seconds

    async def closed_loop(r: Reporter) -> None:
        nonlocal done, failed
        while time.perf_counter() < stop_at:
            try:
                await r.next(replies)
                done += 1
            except TimeoutError:
                failed += 1

    spy = None
    if args.profile and name.startswith("Kua"):
        # py-spy (not a dependency: pip install py-spy) samples the bot during saturation.
        spy = await asyncio.create_subprocess_exec(
            "py-spy",
            "record",
            "--pid",
            str(process.pid),
            "--duration",
            str(int(args.seconds)),
            "--rate",
            "250",
            "--format",
            "raw",
            "--output",
            args.profile,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
    main0 = cpu_seconds(process.pid, process.pid)
    cpu0, t0 = cpu_seconds(process.pid), time.perf_counter()
    await asyncio.gather(*(closed_loop(r) for r in reporters[:CONCURRENT]))
    if spy is not None:
        await spy.wait()
    cpu1, t1 = cpu_seconds(process.pid), time.perf_counter()
    main1 = cpu_seconds(process.pid, process.pid)
    figures.saturation = done / (t1 - t0)
    figures.cpu_ms = (cpu1 - cpu0) * 1000 / max(done, 1)
    figures.cpu_main_ms = (main1 - main0) * 1000 / max(done, 1)
    figures.failed += failed

    # Offered rates: Poisson arrivals; each taps with an idle reporter of the pool.
    for rate in args.rates:
        # The driver's own heap (the fake's records of every request) grows during the run: its
        # full collections took up to ~230 ms and counted as the bot's latency. Frozen before
        # each phase, a collection only walks what that phase made.
        gc.collect()
        gc.freeze()
        figures.rates[rate] = await offered(rate, reporters, replies, args.seconds)
        figures.failed += figures.rates[rate][2]

    if args.drafts:
        fresh = [
            fake.user(600_000_000 + n, first_name=f"D{n}", language_code="en") for n in range(args.drafts)
        ]
        await asyncio.gather(*(prepare(u) for u in fresh))
        figures.rss_drafts = rss_mb(process.pid)
    figures.rss_end = rss_mb(process.pid)
    errors = list(getattr(fake, "errors", []))
    if errors:
        print(f"{name}: {len(errors)} request(s) the fake rejected, e.g. {errors[0]}", file=sys.stderr)
    return figures


async def offered(
    rate: int, reporters: list[Reporter], replies: Replies, seconds: float
) -> tuple[float, float, int]:
    rng = random.Random(rate)
    idle: asyncio.Queue[Reporter] = asyncio.Queue()
    for r in reporters:
        idle.put_nowait(r)
    latencies: list[float] = []
    lost = 0

    async def arrival(at: float) -> None:
        nonlocal lost
        r = await idle.get()
        try:
            latencies.append(await r.next(replies, started=at))
        except TimeoutError:
            lost += 1
        finally:
            idle.put_nowait(r)

    tasks = []
    at = time.perf_counter()
    end = at + seconds
    while True:
        at += rng.expovariate(rate)
        if at >= end:
            break
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        tasks.append(asyncio.create_task(arrival(at)))
    await asyncio.gather(*tasks)
    return pct(latencies, 50), pct(latencies, 99), lost


async def stop_process(process: Any) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), 30)
    except TimeoutError:
        process.kill()
        await process.wait()


async def bench_bare(args: argparse.Namespace) -> Figures:
    async with watched_fake()[0] as fake:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        argv = [sys.executable, str(ROOT / "scripts" / "bench_bare_bot.py"), fake.token, fake.base_url]
        process = await start_process(fake, argv, env, ROOT)
        try:
            return await run_bot("bare aiogram (MemoryStorage)", fake, process, bare_script(), args)
        finally:
            await stop_process(process)


def kua_env(fake: FakeTelegram, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUA_")}
    env.update(
        {
            "KUA_TELEGRAM__TOKEN": fake.token,
            "KUA_TELEGRAM__API_BASE": fake.base_url,
            "KUA_APP__DATA_DIR": str(tmp / "data"),
            "KUA_LOGGING__LEVEL": "WARNING",
            # The driver taps faster than people: the flood limit has its own tests.
            "KUA_LIMITS__FLOOD_UPDATES": "100000",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


async def bench_kua(args: argparse.Namespace, tmp: Path) -> Figures:
    from storage.db import upgrade_to_head

    async with watched_fake()[0] as fake:
        await upgrade_to_head(f"sqlite+aiosqlite:///{tmp / 'data' / 'kua.sqlite3'}")
        process = await start_process(fake, [sys.executable, "-m", "bot"], kua_env(fake, tmp), tmp)
        try:
            return await run_bot("Kua (SQLite)", fake, process, kua_script(), args)
        finally:
            await stop_process(process)


# --- SQL per update (in-process, counted with engine events) ----------------------------------


async def sql_per_update(tmp: Path, taps: int = 20) -> tuple[float, float, float]:
    """Statements, commits and SELECTs per update on the report path (answer, back, answer...)."""
    from tests.harness import BotProcess, counting, make_config
    from tests.harness import Reporter as HarnessReporter

    async with FakeTelegram() as fake:
        kua = BotProcess(make_config(fake, tmp, KUA_LOGGING__LEVEL="WARNING"), fake)
        await kua.start()
        try:
            assert kua.app is not None
            user = fake.user(700_000_000, first_name="S", language_code="en")
            r = HarnessReporter(fake, user, kua)
            await r.choose_language("en")
            await r.press("m1:report")
            await r.consent()
            with counting(kua.app.engine) as counts:  # the updates' statements, not the workers'
                for n in range(taps):
                    if n % 2 == 0:
                        await r.answer("relation", "self")
                    else:
                        await r.nav("danger", NavAct.BACK)
        finally:
            await kua.stop()
    return counts["statements"] / taps, counts["commits"] / taps, counts["SELECT"] / taps


# --- main --------------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[f"{v:,.1f}" if isinstance(v, float) else str(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="kua-bench-updates-") as tmpdir:
        tmp = Path(tmpdir)
        bare = await bench_bare(args)
        kua = await bench_kua(args, tmp / "kua")
        statements, commits, selects = await sql_per_update(tmp / "sql")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Machine: {os.cpu_count()} CPUs, load average {load} (figures vary with load)")
    print(
        f"Driver: {CONCURRENT} reporters at saturation, a pool of {POOL} at fixed rates, {args.seconds:g} s each"
    )
    rows: list[list[Any]] = [
        ["saturation (updates/s)", bare.saturation, kua.saturation, kua.saturation / bare.saturation],
        ["CPU per update (ms)", bare.cpu_ms, kua.cpu_ms, kua.cpu_ms / bare.cpu_ms],
        [
            "  of which main thread (ms)",
            bare.cpu_main_ms,
            kua.cpu_main_ms,
            kua.cpu_main_ms / bare.cpu_main_ms,
        ],
    ]
    for rate in args.rates:
        b, k = bare.rates[rate], kua.rates[rate]
        rows.append([f"p50 at {rate}/s (ms)", b[0], k[0], k[0] / b[0]])
        rows.append([f"p99 at {rate}/s (ms)", b[1], k[1], k[1] / b[1]])
    rows += [
        ["RSS at start (MB)", bare.rss_start, kua.rss_start, kua.rss_start / bare.rss_start],
        ["RSS at the end (MB)", bare.rss_end, kua.rss_end, kua.rss_end / bare.rss_end],
    ]
    if args.drafts:
        rows.append(
            [
                f"RSS with {args.drafts} more live drafts (MB)",
                bare.rss_drafts,
                kua.rss_drafts,
                kua.rss_drafts / bare.rss_drafts,
            ]
        )
    rows.append(["failed/lost updates", bare.failed, kua.failed, "-"])
    print(table(["measure", "bare aiogram", "Kua", "Kua/bare"], rows))
    print(
        f"Kua, report path (answering a question, going back), per update: {statements:.2f} SQL "
        f"statements ({selects:.2f} SELECT), {commits:.2f} commits"
    )
    if args.queue:
        # /queue and its filters at 100,000 open cases, alone and during a reminder round
        # (scripts/bench_queue.py; --postgres there for PostgreSQL too).
        sys.path.insert(0, str(ROOT / "scripts"))
        import bench_queue  # type: ignore[import-not-found]  # a sibling script, found on sys.path

        with tempfile.TemporaryDirectory(prefix="kua-bench-queue-") as where:
            engine = bench_queue.make_engine(f"sqlite+aiosqlite:///{Path(where) / 'queue.sqlite3'}")
            try:
                await bench_queue.bench(engine, "/queue on SQLite", 100_000, None)
            finally:
                await engine.dispose()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each phase (default 8)")
    parser.add_argument(
        "--profile", metavar="FILE", help="py-spy's collapsed stacks of Kua at saturation, into FILE"
    )
    parser.add_argument("--drafts", type=int, default=0, metavar="N", help="then start N more drafts, RSS")
    parser.add_argument(
        "--no-queue",
        dest="queue",
        action="store_false",
        help="skip /queue at 100,000 cases (scripts/bench_queue.py, about 30 s)",
    )
    parser.add_argument(
        "--rates",
        type=lambda text: tuple(int(r) for r in text.split(",") if r),
        default=RATES,
        metavar="R,R",
        help="offered rates in updates/s (default 10,25,50,100; empty: saturation only)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
