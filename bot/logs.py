"""Logging that cannot leak a reporter: no message text is ever logged by our code, and a filter
masks anything that looks like a Telegram id in records from any library."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from typing import TextIO

# Telegram user/chat ids are 5+ digit integers (group ids carry a -100 prefix); update ids and
# durations are masked too, which costs little.
_ID = re.compile(r"(?<![\w.])-?\d{5,}(?![\w.])")


class RedactIds(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _ID.sub("<id>", message)
        if record.exc_info:
            # Exception messages can carry request data; keep the type and the frames only.
            exc_type, _exc, tb = record.exc_info
            record.exc_info = None
            record.exc_text = None
            frames = "".join(traceback.format_tb(tb))
            redacted += f"\n{frames}{exc_type.__name__ if exc_type else 'Exception'} (message withheld)"
        record.msg, record.args = redacted, None
        return True


def setup_logging(level: str, stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactIds())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Alembic's context announces itself at INFO on every schema check; not news for operators.
    logging.getLogger("alembic").setLevel(logging.WARNING)
