"""Conversations: a searchable, paged table of every stored conversation; Enter opens one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import ClassVar

from textual import on, work
from textual.binding import Binding, BindingType
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from dtbot.services.conversations import ConversationOut, ConversationPage
from dtbot.tui.format import count, short_stamp
from dtbot.tui.screens.conversation import ConversationScreen
from dtbot.tui.screens.conversation_actions import ConversationActions
from dtbot.tui.widgets.fit_table import Column, FitTable

PAGE_SIZE = 20
TYPING_PAUSE = 0.25  # seconds after the last key before the search runs
COLUMNS = (
    Column("user", 10),
    Column("title", 20),
    Column("model", 14),
    Column("msgs", 4),
    Column("tokens", 7),
    Column("updated", 11),
)


class ConversationsScreen(ConversationActions):
    """Newest first, `PAGE_SIZE` a page; the search matches titles and message text, as the API's."""

    MODE = "conversations"
    HELP = "Type in the search box to filter by title or message text; Escape goes back to the table."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search"),
        Binding("enter", "open", "Open"),
        Binding("d", "delete", "Delete"),
        Binding("e", "export", "Export"),
        Binding("c", "chat", "Chat"),
        Binding("n", "page(1)", "Next"),
        Binding("p", "page(-1)", "Prev"),
        Binding("r", "reload", "Refresh"),
        Binding("escape", "leave_search", "To table", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.search = ""
        self.page = 1
        self.current: ConversationPage | None = None

    def compose_body(self) -> Iterable[Widget]:
        yield Input(placeholder="search titles and messages  ( / )", id="search", compact=True)
        yield FitTable(COLUMNS, stretch="title", id="conversations")
        yield Static("", id="pager", classes="status-line")

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.load()

    def on_screen_resume(self) -> None:
        if self.current is not None:  # back from a conversation that may have changed or gone
            self.load()

    @property
    def table(self) -> FitTable:
        return self.query_one("#conversations", FitTable)

    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        self.search = event.value.strip()
        self.page = 1
        self.load(delay=TYPING_PAUSE)

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        self.table.focus()

    @work(group="conversations", exclusive=True, exit_on_error=False)
    async def load(self, delay: float = 0.0) -> None:
        """Fetch the page; a newer call cancels this one (so typing fast runs one search)."""
        if delay:
            await asyncio.sleep(delay)
        result = await self.runtime.conversations.list(
            None, search=self.search or None, page=self.page, limit=PAGE_SIZE
        )
        if result.pagination.total_pages and self.page > result.pagination.total_pages:  # the last page emptied
            self.page = result.pagination.total_pages
            result = await self.runtime.conversations.list(
                None, search=self.search or None, page=self.page, limit=PAGE_SIZE
            )
        self.show(result)

    def show(self, result: ConversationPage) -> None:
        self.current = result
        self.table.replace(
            [
                (
                    c.conversation_id,
                    {
                        "user": c.user_id or "-",
                        "title": c.title or "(untitled)",
                        "model": c.model,
                        "msgs": count(c.message_count),
                        "tokens": count(c.token_usage),
                        "updated": short_stamp(c.updated_at),
                    },
                )
                for c in result.conversations
            ]
        )
        p = result.pagination
        found = f"{count(p.total)} conversations" + (f" matching “{escape(self.search)}”" if self.search else "")
        self.query_one("#pager", Static).update(f"{found} · page {p.page if p.total else 0} of {p.total_pages}")

    def selected(self) -> ConversationOut | None:
        """The conversation under the cursor."""
        if self.current is None or not self.current.conversations:
            return None
        row = self.table.cursor_row
        conversations = self.current.conversations
        return conversations[row] if 0 <= row < len(conversations) else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        conversation = self.selected()
        if conversation is not None:
            self.app.push_screen(ConversationScreen(conversation))

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_leave_search(self) -> None:
        self.table.focus()

    def action_delete(self) -> None:
        conversation = self.selected()
        if conversation is not None:
            self.ask_delete(conversation, self.load)

    def action_export(self) -> None:
        conversation = self.selected()
        if conversation is not None:
            self.ask_export(conversation.conversation_id)

    def action_chat(self) -> None:
        conversation = self.selected()
        if conversation is not None:
            self.continue_in_chat(conversation)

    def action_page(self, step: int) -> None:
        pages = self.current.pagination.total_pages if self.current else 0
        wanted = self.page + step
        if 1 <= wanted <= pages:
            self.page = wanted
            self.load()

    def action_reload(self) -> None:
        self.load()
