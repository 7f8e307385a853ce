"""`python -m bot rotate-keys`: a new first data key; the old ones stay, so old records stay
readable (MultiFernet decrypts with any key, encrypts with the first).

Run it with the bot stopped, then back the key file up and start the bot. The HMAC secret is
not rotated: the keyed hashes that link an account to its cases would stop matching.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from bot.config import ConfigError, load_config
from storage.crypto import Crypto


async def _rotate(argv: Sequence[str]) -> int:
    from sqlalchemy.engine import make_url

    from bot.app import StartupError, guarded_crypto
    from storage.db import current_revision_is_head, make_engine, make_sessionmaker
    from storage.keyguard import write_check
    from storage.keys import key_file_path, load_crypto, rotate_key_file

    config = load_config()
    if config.security.data_keys:
        new = Crypto.generate_key()
        print(
            "kua: security.data_keys is set in the configuration, so the key file is not "
            "used: put this new key first in data_keys (keep the old ones after it), "
            f"restart the bot, then run rotate-keys again to record it: {new}",
            file=sys.stderr,
        )
        return 2
    engine = make_engine(config.database.url)
    where = make_url(config.database.url).render_as_string(hide_password=True)
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
        path = key_file_path(config.security, config.data_dir)
        count = rotate_key_file(path)
        crypto, _warnings = load_crypto(config.security, config.data_dir, create=False)
        await write_check(sessions, crypto)
    finally:
        await engine.dispose()
    print(
        f"kua: a new data key is now first in {path} ({count} keys; the old ones still read "
        "older records). Back this file up now, apart from the database."
    )
    return 0


def main(argv: Sequence[str]) -> int:
    try:
        return asyncio.run(_rotate(argv))
    except ConfigError as exc:
        print(f"kua: config error: {exc}", file=sys.stderr)
        return 2
