"""The configuration as handlers see it: the sections they read, and nothing else.

``bot/`` reads the whole configuration once (bot.config.Config) and injects
``handlers.settings.Config.of(config)`` as the handlers' ``config`` parameter
(``Dispatcher(config=...)``). No handler receives the bot token, the webhook secret, the
encryption keys or the database URL: they are not in here.

The names are those of bot.config's classes, each described here by what handlers read of it
(a read-only protocol); the sections themselves are declared once, with their defaults and
rules, in bot.config.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

__all__ = [
    "AppConfig",
    "Config",
    "CoordinationConfig",
    "LimitsConfig",
    "NgoConfig",
    "RetentionConfig",
    "StatsConfig",
]


class AppConfig(Protocol):
    @property
    def default_locale(self) -> str: ...


class CoordinationConfig(Protocol):
    @property
    def chat_id(self) -> int: ...  # 0 = no coordinators' group
    @property
    def coordinators(self) -> tuple[int, ...]: ...
    @property
    def admins(self) -> tuple[int, ...]: ...
    @property
    def on_call(self) -> tuple[int, ...]: ...
    @property
    def group_shows(self) -> str: ...  # "summary" or "full"
    @property
    def private_view_minutes(self) -> int: ...
    @property
    def has_group(self) -> bool: ...


class LimitsConfig(Protocol):
    @property
    def max_files_per_case(self) -> int: ...
    @property
    def max_file_mb(self) -> int: ...
    @property
    def max_file_bytes(self) -> int: ...
    @property
    def max_text_chars(self) -> int: ...
    @property
    def code_attempts_per_hour(self) -> int: ...
    @property
    def reports_per_day(self) -> int: ...
    @property
    def spam_block_days(self) -> int: ...
    @property
    def surge_per_hour(self) -> int: ...
    @property
    def allow_other_types(self) -> bool: ...


class RetentionConfig(Protocol):
    @property
    def draft_days(self) -> int: ...
    @property
    def closed_case_days(self) -> int: ...


class NgoConfig(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def contacts(self) -> str: ...
    @property
    def lawyer(self) -> str: ...
    @property
    def legal_reviewed_on(self) -> date | None: ...
    @property
    def legal_reviewed_by(self) -> str: ...


class StatsConfig(Protocol):
    @property
    def min_cell(self) -> int: ...


class _Whole(Protocol):
    """The full configuration (bot.config.Config), as far as :meth:`Config.of` reads it."""

    @property
    def app(self) -> AppConfig: ...
    @property
    def coordination(self) -> CoordinationConfig: ...
    @property
    def limits(self) -> LimitsConfig: ...
    @property
    def retention(self) -> RetentionConfig: ...
    @property
    def ngo(self) -> NgoConfig: ...
    @property
    def stats(self) -> StatsConfig: ...


@dataclass(frozen=True, slots=True)
class Config:
    """The sections handlers read; nothing secret."""

    app: AppConfig
    coordination: CoordinationConfig
    limits: LimitsConfig
    retention: RetentionConfig
    ngo: NgoConfig
    stats: StatsConfig

    @classmethod
    def of(cls, config: _Whole) -> Config:
        """The handlers' slice of the whole configuration (built once, by bot/)."""
        return cls(
            app=config.app,
            coordination=config.coordination,
            limits=config.limits,
            retention=config.retention,
            ngo=config.ngo,
            stats=config.stats,
        )
