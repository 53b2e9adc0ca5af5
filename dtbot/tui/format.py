"""How the dashboard writes numbers, times and durations: short, aligned, the same on every screen."""

from __future__ import annotations

from datetime import datetime

from dtbot.errors import DtbotError


def count(value: int | float) -> str:
    """A whole number with thousands separators: `1,234,567`."""
    return f"{int(value):,}"


def compact(value: int | float) -> str:
    """A number in at most five characters: `987`, `12.3k`, `4.5M`."""
    value = float(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            scaled = value / limit
            return f"{scaled:.1f}{suffix}" if scaled < 100 else f"{scaled:.0f}{suffix}"
    return f"{value:.0f}"


def clock(value: datetime) -> str:
    """Time of day, to the second: `12:00:05`."""
    return value.strftime("%H:%M:%S")


def stamp(value: datetime) -> str:
    """Date and time without the zone (the dashboard shows every time in the configured zone)."""
    return value.strftime("%Y-%m-%d %H:%M:%S")


def short_stamp(value: datetime) -> str:
    """Month, day and minute, for narrow columns: `07-01 12:00`."""
    return value.strftime("%m-%d %H:%M")


def duration(milliseconds: float | None) -> str:
    """A latency: `850 ms`, `1.2 s`, or `-` when unknown."""
    if milliseconds is None:
        return "-"
    if milliseconds < 1000:
        return f"{milliseconds:.0f} ms"
    return f"{milliseconds / 1000:.1f} s"


def one_line(text: str, width: int) -> str:
    """`text` on one line, cut to `width` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(width - 1, 0)] + "…"


def problem(error: DtbotError) -> str:
    """A service error as the dashboard shows it: its message and business code."""
    return f"{error.message} ({error.code})"
