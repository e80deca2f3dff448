"""The one error type users see.

Every layer raises `TunesmithError` for problems a user can act on (bad input, missing part,
unknown style). Interfaces show `message` (and `hint` when there is one) instead of a traceback.
"""

from __future__ import annotations


class TunesmithError(Exception):
    """A problem the user can understand and act on.

    Args:
        message: what was wrong, naming the offending value.
        hint: what to do about it, when there is something to do.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message
