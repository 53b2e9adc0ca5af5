"""Waiting for the dashboard: its data arrives from workers, so tests poll for it with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input, Static

from dtbot.tui.widgets.fit_table import FitTable


async def until(pilot: Pilot[None], condition: Callable[[], object], what: str = "", within: float = 10.0) -> None:
    """Let the app run until `condition()` is true; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.05)


async def paste(pilot: Pilot[None], text: str) -> None:
    """Put `text` into the focused input at once, as a terminal paste does (typing long text key by key is slow)."""
    focused = pilot.app.focused
    assert isinstance(focused, Input), f"no input has the focus ({focused})"
    focused.insert_text_at_cursor(text)
    await pilot.pause()


def text_of(static: Static) -> str:
    """What a Static shows, as plain text."""
    return str(static.render())


def column(table: FitTable, name: str) -> list[str]:
    """A table column's cells as plain text, top to bottom."""
    return [str(cells.get(name, "")) for _, cells in table.rows_shown]
