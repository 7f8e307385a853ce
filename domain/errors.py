"""Errors every layer may raise about the installation itself (not about a case).

:class:`ConfigError` lives here, at the bottom, so that ``storage/`` (the key file) and
``bot/`` (the settings) report problems the same way without ``storage/`` importing ``bot/``.
"""

from __future__ import annotations

__all__ = ["ConfigError"]


class ConfigError(Exception):
    """A missing or invalid setting. ``key`` is ``section.key`` (or ``KUA_CONFIG``/``config``
    for problems with the file itself); ``str()`` is a single line that says how to fix it."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = " ".join(message.splitlines())
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message
