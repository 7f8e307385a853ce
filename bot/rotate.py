"""`python -m bot rotate-keys [--resume] [--retire-old-keys]`: a new first data key, and every
stored value re-encrypted under it.

Run it with the bot stopped, then back the key file up and start the bot.

* (no option) a new data key goes first in the key file; every encrypted value in the database
  is rewritten under it (storage.reencrypt), then each is read with the new key alone. The old
  keys stay in the file: database backups made before still need them.
* ``--resume`` re-encrypts under the current first key without adding one (after an
  interrupted run, or after putting a new key first in ``security.data_keys`` by hand).
* ``--retire-old-keys`` then removes every key but the first from the key file — only if every
  stored value was read with the first key alone. Backups made before need the old file.

The HMAC secret is not rotated: the keyed hashes that link an account to its cases would stop
matching.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot.config import ConfigError, load_config
from storage.crypto import Crypto


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot rotate-keys", description=__doc__.split("\n\n")[0])
    parser.add_argument("--resume", action="store_true", help="re-encrypt under the current first key")
    parser.add_argument(
        "--retire-old-keys", action="store_true", help="then keep only the first key in the key file"
    )
    return parser


async def _rotate(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from bot.app import StartupError, guarded_crypto
    from storage.db import current_revision_is_head, make_engine, make_sessionmaker
    from storage.keyguard import write_check
    from storage.keys import key_file_path, load_crypto, retire_old_keys, rotate_key_file
    from storage.reencrypt import check_first_key, reencrypt

    config = load_config()
    in_config = bool(config.security.data_keys)
    if in_config and not args.resume:
        new = Crypto.generate_key()
        print(
            "kua: security.data_keys is set in the configuration, so the key file is not "
            "used: put this new key first in data_keys (keep the old ones after it), "
            f"then run rotate-keys --resume to re-encrypt every stored value under it: {new}",
            file=sys.stderr,
        )
        return 2
    engine = make_engine(config.database.url)
    where = make_url(config.database.url).render_as_string(hide_password=True)
    path = key_file_path(config.security, config.data_dir)
    try:
        if not await current_revision_is_head(engine):
            print(
                f"kua: cannot rotate keys: the database at {where} is not at the latest "
                "schema; run scripts/migrate.sh first",
                file=sys.stderr,
            )
            return 2
        sessions = make_sessionmaker(engine)
        try:
            await guarded_crypto(config, sessions, where)  # the current keys must be right
        except StartupError as exc:
            print(f"kua: cannot rotate keys: {exc}", file=sys.stderr)
            return 2
        if not args.resume:
            count = rotate_key_file(path)
            print(f"kua: a new data key is now first in {path} ({count} keys).")
        crypto, _warnings = load_crypto(config.security, config.data_dir, create=False)
        await write_check(sessions, crypto)
        rewritten = await reencrypt(engine, crypto)
        checked = await check_first_key(engine, crypto)
    finally:
        await engine.dispose()
    print(f"kua: {rewritten.total} stored values re-encrypted under the first key.")
    unreadable = {name: n for name, n in checked.failed.items() if n}
    if unreadable:
        listing = ", ".join(f"{name}: {n}" for name, n in sorted(unreadable.items()))
        print(
            f"kua: some values cannot be read with the first key alone ({listing}); the old "
            "keys are kept. Run rotate-keys --resume again; if these stay, they were "
            "unreadable before (no key opens them).",
            file=sys.stderr,
        )
        return 2
    if args.retire_old_keys:
        if in_config:
            print("kua: every value reads with the first key: remove the others from security.data_keys.")
            return 0
        removed = retire_old_keys(path)
        print(
            f"kua: {removed} old key(s) removed from {path}. Back this file up now, apart from "
            "the database, and destroy the old key file's backups (database backups made "
            "before this need them)."
        )
        return 0
    print(
        f"kua: every value reads with the first key. Back {path} up now, apart from the "
        "database; once older database backups are no longer needed, run rotate-keys "
        "--resume --retire-old-keys to drop the old keys."
    )
    return 0


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    try:
        return asyncio.run(_rotate(args))
    except ConfigError as exc:
        print(f"kua: config error: {exc}", file=sys.stderr)
        return 2
