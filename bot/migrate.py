"""Database migrations from the command line, using the app config's database URL.

python -m bot.migrate upgrade [REV]     # default: head
python -m bot.migrate downgrade REV     # e.g. -1, 0001, base
python -m bot.migrate current           # prints the revision and whether it is head
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from storage import db


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.migrate", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upgrade", help="upgrade the database (default: to head)")
    up.add_argument("revision", nargs="?", default="head")
    down = sub.add_parser("downgrade", help="downgrade the database to REV (-1, base, 0001...)")
    down.add_argument("revision")
    sub.add_parser("current", help="show the database revision")
    return parser


def _database_url() -> str:
    # Imported here, so that a broken or missing config becomes a one-line message, not a
    # traceback. (bot/, not storage/, reads the config: storage takes the URL.)
    from bot.config import ConfigError, load_config

    try:
        return load_config(require_token=False).database.url
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


async def _run(command: str, revision: str | None, url: str) -> None:
    # Foreign keys off on SQLite: batch ALTERs recreate tables (see storage.db.make_engine).
    engine = db.make_engine(url, sqlite_foreign_keys=False)
    try:
        if command == "upgrade":
            await db.upgrade(engine, revision or "head")
        elif command == "downgrade":
            if revision is None:
                raise ValueError("downgrade needs a revision")
            await db.downgrade(engine, revision)
        current = sorted(await db.current_revisions(engine))
        heads = db.head_revisions()
        shown = ", ".join(current) or "none (empty database)"
        print(f"{shown} ({'head' if set(current) == heads else 'head is ' + ', '.join(sorted(heads))})")
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Show Alembic's "Running upgrade 0001 -> 0002" lines; everything else stays quiet.
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("alembic").setLevel(logging.INFO)
    url = _database_url()
    asyncio.run(_run(args.command, getattr(args, "revision", None), url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
