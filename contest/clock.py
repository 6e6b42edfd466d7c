"""The one clock. Tests move it instead of sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# Vietnam's time: every time a person reads or types is in it, every time stored is UTC.
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current time, UTC, as the contest sees it."""
    return _source()


class FrozenClock:
    """A clock that stands still until moved: install it with `use(clock)`."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


def use(source: Callable[[], datetime] | None) -> None:
    """Install a time source; None restores the wall clock."""
    global _source
    _source = source or (lambda: datetime.now(UTC))
