"""Time helpers: everything is stored in UTC and rendered with an offset."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime (as databases return them) as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local_day_start(now: datetime, zone: tzinfo) -> datetime:
    """Midnight of `now`'s day in `zone`, returned in UTC."""
    local = now.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def zone(name: str) -> tzinfo:
    """The named IANA time zone (raises `ZoneInfoNotFoundError` when unknown)."""
    return ZoneInfo(name)


def local(value: datetime, zone: tzinfo) -> datetime:
    """`value` in `zone`, to the second: how the API renders times (`2025-07-01T11:36:57+08:00`)."""
    return value.astimezone(zone).replace(microsecond=0)


def local_or_none(value: datetime | None, zone: tzinfo) -> datetime | None:
    """`local`, passing None through."""
    return None if value is None else local(value, zone)
