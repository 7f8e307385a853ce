"""Metadata cleaners for the file types that are not plain images (see storage.media.clean).

Each cleaner is a pure function ``bytes -> bytes`` that returns a copy of the file without its
identifying metadata, or raises :class:`CleaningError` (never with file content in the message).
"""

from __future__ import annotations


class CleaningError(Exception):
    """The file could not be cleaned (corrupt, protected, too large, timed out)."""
