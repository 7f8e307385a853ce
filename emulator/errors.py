"""The error a Bot API method answers with."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An unsuccessful Bot API response.

    ``rule_violation`` is False for errors the test arranged on purpose (fault
    injection, blocked users) and for getUpdates conflicts: those are not the
    bot's fault and stay out of ``FakeTelegram.errors``.
    """

    def __init__(
        self,
        status: int,
        description: str,
        *,
        rule_violation: bool = True,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.rule_violation = rule_violation
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """400 "Bad Request: <detail>", Telegram's most common answer."""
    return ApiError(400, f"Bad Request: {detail}")


def chat_not_found() -> ApiError:
    return bad_request("chat not found")
