"""The operator's commands for statistics and exports (no Telegram needed):

    python -m bot stats  [--since 2026-01] [--until 2026-12] [--format text|json|png]
                         [--out DIR] [--locale ru]
    python -m bot export --format json|csv [--since 2026-01] [--until 2026-12] [--with-text]
                         [--out FILE]

Both read the same configuration as the bot. Statistics apply the same protection as /stats;
every export is recorded in the exports audit table (actor "operator").
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import re
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from bot.config import Config, ConfigError, load_config
from bot.i18n import make_i18n
from domain.values import LOCALES
from services import export as export_service
from services import stats as stats_service
from storage.db import current_revision_is_head, make_engine, make_sessionmaker
from storage.keys import load_crypto
from storage.repositories import Store

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _month(value: str) -> str:
    if not MONTH.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a month like 2026-03")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bot")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("stats", help="statistics of consenting cases, small numbers protected")
    s.add_argument("--since", type=_month)
    s.add_argument("--until", type=_month)
    s.add_argument("--format", choices=("text", "json", "png"), default="text")
    s.add_argument("--out", default=".", help="directory for the PNG charts")
    s.add_argument("--locale", choices=LOCALES, help="language of texts and charts")
    e = sub.add_parser("export", help="cases as JSON (HURIDOCS-shaped) or CSV")
    e.add_argument("--format", choices=("json", "csv"), required=True)
    e.add_argument("--since", type=_month)
    e.add_argument("--until", type=_month)
    e.add_argument(
        "--with-text",
        action="store_true",
        help="include free text, names and file sizes (every case, with consent "
        "flags); without it only consenting cases and codes",
    )
    e.add_argument("--out", help="file to write (default: standard output)")
    return p


def plain(html_text: str) -> str:
    return html.unescape(re.sub(r"</?[a-z]+>", "", html_text))


async def _store(config: Config) -> tuple[Store, object]:
    engine = make_engine(config.database.url)
    if not await current_revision_is_head(engine):
        await engine.dispose()
        raise ConfigError(
            "database.url",
            "database.url: the database is not at the latest schema; run scripts/migrate.sh first",
        )
    crypto, _warnings = load_crypto(config.security, config.data_dir)
    return Store(make_sessionmaker(engine), crypto), engine


async def run(args: argparse.Namespace, config: Config) -> int:
    store, engine = await _store(config)
    try:
        if args.command == "stats":
            return await _stats(args, config, store)
        return await _export(args, config, store)
    finally:
        await engine.dispose()  # type: ignore[attr-defined]


async def _stats(args: argparse.Namespace, config: Config, store: Store) -> int:
    from handlers.stats import report_charts, report_text

    if args.since and args.until and args.since > args.until:
        print("kua: --since is after --until", file=sys.stderr)
        return 2
    report = await stats_service.build(
        store.stats,
        stats_service.Period(args.since, args.until),
        min_cell=config.stats.min_cell,
        now=store.clock(),
    )
    if args.format == "json":
        print(json.dumps(stats_service.as_dict(report), ensure_ascii=False, indent=1))
        return 0
    i18n = make_i18n(config.app.default_locale)
    with i18n.context(), i18n.use_locale(args.locale or config.app.default_locale):
        if args.format == "text":
            print(plain(report_text(report)))
            return 0
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name, png in report_charts(report):
            (out / name).write_bytes(png)
            print(out / name)
    return 0


async def _export(args: argparse.Namespace, config: Config, store: Store) -> int:
    i18n = make_i18n(config.app.default_locale)
    request = export_service.ExportRequest(
        fmt=args.format, since=args.since, until=args.until, with_text=args.with_text, actor_kind="operator"
    )
    with ExitStack() as stack:
        out = (
            stack.enter_context(open(args.out, "w", encoding="utf-8", newline="")) if args.out else sys.stdout
        )
        count = await export_service.write(
            store.stats,
            request,
            out,
            lambda msgid, locale: i18n.gettext(msgid, locale=locale),
            now=store.clock(),
        )
    print(
        f"kua: exported {count} cases ({args.format}"
        f"{', with free text' if args.with_text else ''}); recorded in the exports audit",
        file=sys.stderr,
    )
    return 0


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(list(argv))
    try:
        config = load_config(require_token=False)
        return asyncio.run(run(args, config))
    except ConfigError as exc:
        print(f"kua: config error: {exc}", file=sys.stderr)
        return 2


def stats_main(argv: Sequence[str]) -> int:
    """`python -m bot stats …` through bot/__main__'s command table."""
    return main(["stats", *argv])


def export_main(argv: Sequence[str]) -> int:
    """`python -m bot export …` through bot/__main__'s command table."""
    return main(["export", *argv])
