"""Conversations: search, open, delete with confirmation, export, continue in the Chat tab."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dtbot.errors import NotFound
from dtbot.tui.screens.chat import ChatScreen
from dtbot.tui.screens.conversation import ConversationScreen
from dtbot.tui.screens.conversations import ConversationsScreen
from dtbot.tui.screens.export import ExportScreen
from dtbot.tui.widgets.fit_table import FitTable
from dtbot.tui.widgets.message import MessageView
from tests.tui.conftest import SIZE, dashboard
from tests.tui.data import CONVERSATIONS, FIRST
from tests.tui.support import column, text_of, until


def table(app: object) -> FitTable:
    return app.screen.query_one("#conversations", FitTable)  # type: ignore[attr-defined]


async def test_search_then_open_a_conversation(database: str) -> None:
    app = dashboard(database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        assert isinstance(app.screen, ConversationsScreen)
        await until(pilot, lambda: len(table(app).rows_shown) == 20, "the first page")
        assert "26 conversations · page 1 of 2" in text_of(app.screen.query_one("#pager"))  # type: ignore[arg-type]

        await pilot.press("slash", *"Redis")
        await until(pilot, lambda: len(table(app).rows_shown) == 2, "the search result")
        assert column(table(app), "title") == ["Explain Redis streams", "Explain Redis streams (2)"]
        assert "2 conversations matching “Redis”" in text_of(app.screen.query_one("#pager"))  # type: ignore[arg-type]

        await pilot.press(*["backspace"] * len("Redis"), *"季度")  # matches the title and, for the first, the messages
        await until(pilot, lambda: column(table(app), "title")[:1] == ["季度报表总结"], "the Chinese search")
        await pilot.press("enter")  # leaves the search box for the table
        await pilot.press("enter")  # opens the row under the cursor
        assert isinstance(app.screen, ConversationScreen)
        await until(pilot, lambda: len(app.screen.query(MessageView)) == 3, "the messages")
        roles = [view.role for view in app.screen.query(MessageView)]
        assert roles == ["system", "user", "assistant"]
        answer = app.screen.query(MessageView).last()
        assert "212 tokens" in answer.heading
        assert answer.body.source.startswith("## 季度报表总结")
        await pilot.press("escape")
        assert isinstance(app.screen, ConversationsScreen)


async def test_pages(database: str) -> None:
    app = dashboard(database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: len(table(app).rows_shown) == 20, "the first page")
        await pilot.press("n")
        await until(pilot, lambda: len(table(app).rows_shown) == CONVERSATIONS - 20, "the second page")
        await pilot.press("n")  # there is no third
        await pilot.press("p")
        await until(pilot, lambda: len(table(app).rows_shown) == 20, "the first page again")


async def test_delete_asks_first(database: str) -> None:
    app = dashboard(database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: len(table(app).rows_shown) == 20, "the first page")
        assert table(app).current_key() == FIRST
        await pilot.press("d", "n")  # asked, and declined
        await pilot.pause()
        assert (await app.runtime.conversations.get(FIRST, None)).conversation_id == FIRST
        await pilot.press("d", "y")
        await until(pilot, lambda: FIRST not in [key for key, _ in table(app).rows_shown], "the row to go")
        with pytest.raises(NotFound):
            await app.runtime.conversations.get(FIRST, None)
        assert "25 conversations" in text_of(app.screen.query_one("#pager"))  # type: ignore[arg-type]


async def test_export_writes_the_chosen_format(database: str, tmp_path: Path) -> None:
    app = dashboard(database)
    target = tmp_path / "first.json"  # the tests run in their own directory, where a relative path lands
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: len(table(app).rows_shown) == 20, "the first page")
        await pilot.press("enter")
        await until(pilot, lambda: len(app.screen.query(MessageView)) == 3, "the messages")
        await pilot.press("e")
        assert isinstance(app.screen, ExportScreen)
        await pilot.press("ctrl+a", "ctrl+k", *"first.json", "enter")  # .json: the format follows
        await until(pilot, target.exists, "the file")
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert exported["conversation"]["conversationId"] == FIRST
    assert [m["role"] for m in exported["messages"]] == ["user", "assistant"]


async def test_continue_a_conversation_in_chat(database: str) -> None:
    app = dashboard(database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await until(pilot, lambda: len(table(app).rows_shown) == 20, "the first page")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ChatScreen), "the chat tab")
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await until(pilot, lambda: len(screen.query(MessageView)) == 2, "the history")
        assert screen.session.conversation_id == FIRST and screen.session.model == "gpt-4"
