"""The clock services read `now` from, so tests can move time without sleeping."""

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move (for tests and scripted runs)."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = at


def add_local_days(instant: datetime, days: int, timezone: str) -> datetime:
    """`instant` plus `days` calendar days on the agency's wall clock (so a chase "in 3 days"
    keeps its local time of day across a daylight-saving change), returned in UTC."""
    local = instant.astimezone(ZoneInfo(timezone))
    moved = (local.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=local.tzinfo)
    return moved.astimezone(UTC)
