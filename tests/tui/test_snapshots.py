"""Snapshots of the main screens with the fixed data, the clock frozen at `NOW` (noon in Shanghai).

Run `pytest tests/tui/test_snapshots.py --snapshot-update` after an intended change to the
looks, and check the new SVGs under `__snapshots__/` (a browser shows them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any

import time_machine
from textual.pilot import Pilot
from textual.widgets import Input

from dtbot.tui.widgets.fit_table import FitTable
from dtbot.tui.widgets.message import MessageView
from tests.conftest import provider_env
from tests.fakes.llm import FakeLLM
from tests.tui.conftest import SIZE, dashboard
from tests.tui.data import NOW
from tests.tui.support import until

Compare = Callable[..., bool]
WIDE = (120, 36)


def steps(
    *keys: str,
    wait: Callable[[Pilot[None]], Awaitable[None]] | None = None,
    then: tuple[str, ...] = (),
    theme: str = "",
) -> Any:
    """Press `keys`, wait for the data, press `then`, then hold still: no blinking cursor, no toasts."""

    async def run(pilot: Pilot[None]) -> None:
        app = pilot.app
        if theme:
            app.theme = theme
        await pilot.press(*keys)
        if wait is not None:
            await wait(pilot)
        await pilot.press(*then)
        await pilot.pause(0.3)
        for field in app.screen.query(Input):
            field.cursor_blink = False
        app.clear_notifications()
        await pilot.pause()

    return run


def waiting_for(condition: Callable[[Any], object], what: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def wait(pilot: Pilot[None]) -> None:
        await until(pilot, lambda: condition(pilot.app), what)

    return wait


def rows(count: int, table: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    return waiting_for(lambda app: len(app.screen.query_one(f"#{table}", FitTable).rows_shown) == count, table)


def overview_ready(app: Any) -> bool:
    return "updated" in str(app.screen.query_one("#overview-status").render())


def frozen(
    compare: Compare,
    database: str,
    *,
    size: tuple[int, int] = SIZE,
    env: Iterable[tuple[str, str]] = (),
    run_before: Any,
) -> bool:
    with time_machine.travel(NOW + timedelta(seconds=5), tick=False):
        return compare(dashboard(database, **dict(env)), terminal_size=size, run_before=run_before)


def test_overview(snap_compare: Compare, database: str) -> None:
    assert frozen(snap_compare, database, run_before=steps(wait=waiting_for(overview_ready, "the figures")))


def test_overview_wide(snap_compare: Compare, database: str) -> None:
    """The README's picture."""
    assert frozen(snap_compare, database, size=WIDE, run_before=steps(wait=waiting_for(overview_ready, "the figures")))


def test_overview_light(snap_compare: Compare, database: str) -> None:
    wait = waiting_for(overview_ready, "the figures")
    assert frozen(snap_compare, database, size=WIDE, run_before=steps(theme="textual-light", wait=wait))


def test_conversations(snap_compare: Compare, database: str) -> None:
    assert frozen(snap_compare, database, run_before=steps("2", wait=rows(20, "conversations")))


def test_conversation_messages(snap_compare: Compare, database: str) -> None:
    async def opened(pilot: Pilot[None]) -> None:
        await rows(20, "conversations")(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: len(pilot.app.screen.query(MessageView)) == 3, "the messages")

    assert frozen(snap_compare, database, run_before=steps("2", wait=opened))


def test_chat_answer(snap_compare: Compare, database: str, fake_llm: FakeLLM) -> None:
    def answered(app: Any) -> bool:
        views = app.screen.query(MessageView)
        return len(views) == 2 and "tokens" in views.last().heading

    keys = ("3", "enter", *"Give me **three** words", "enter")
    run = steps(*keys, wait=waiting_for(answered, "the answer"))
    assert frozen(snap_compare, database, env=provider_env(fake_llm).items(), run_before=run)


def test_config_with_an_error(snap_compare: Compare, database: str) -> None:
    assert frozen(snap_compare, database, run_before=steps("4", "tab", "ctrl+a", "ctrl+k", "0"))


def test_keys(snap_compare: Compare, database: str) -> None:
    assert frozen(snap_compare, database, run_before=steps("5", wait=rows(3, "keys")))


def test_requests(snap_compare: Compare, database: str) -> None:
    assert frozen(snap_compare, database, run_before=steps("6", wait=rows(100, "calls")))


def test_help(snap_compare: Compare, database: str) -> None:
    run = steps("2", wait=rows(20, "conversations"), then=("question_mark",))
    assert frozen(snap_compare, database, run_before=run)


def test_new_key_dialog(snap_compare: Compare, database: str) -> None:
    assert frozen(snap_compare, database, run_before=steps("5", wait=rows(3, "keys"), then=("n", *"ci-bot")))
