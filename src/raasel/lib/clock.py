"""Timezone-aware UTC time, the only kind this code base uses."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Attach UTC to naive datetimes read back from SQLite (which drops the zone)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
