"""One conversation's messages: role, time, tokens and the text rendered as Markdown, a page at a time."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.widget import Widget
from textual.widgets import Static

from dtbot.services.conversations import ConversationOut, MessagePage
from dtbot.tui.format import count, short_stamp
from dtbot.tui.screens.conversation_actions import ConversationActions
from dtbot.tui.widgets.message import MessageView, caption

PAGE_SIZE = 50


class ConversationScreen(ConversationActions):
    """Opened from the Conversations tab; Escape goes back to it."""

    MODE = "conversations"
    HELP = "The stored messages, oldest first. Scroll with the arrow keys, PageUp/PageDown, Home/End."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("e", "export", "Export"),
        Binding("d", "delete", "Delete"),
        Binding("c", "chat", "Chat"),
        Binding("n", "page(1)", "Next"),
        Binding("p", "page(-1)", "Prev"),
    ]

    def __init__(self, conversation: ConversationOut) -> None:
        super().__init__()
        self.conversation = conversation
        self.page = 1
        self.pages = 0

    def compose_body(self) -> Iterable[Widget]:
        yield Static(self.describe(), id="conversation-header")
        yield VerticalScroll(id="messages")
        yield Static("loading…", id="message-pager", classes="status-line")

    def describe(self) -> str:
        c = self.conversation
        title = escape(c.title or "(untitled)")
        return (
            f"[b]{title}[/b]  [$text-muted]{c.conversation_id}[/]\n"
            f"[$text-muted]model[/] {escape(c.model)}  [$text-muted]user[/] {escape(c.user_id or '-')}  "
            f"[$text-muted]messages[/] {count(c.message_count)}  [$text-muted]tokens[/] {count(c.token_usage)}  "
            f"[$text-muted]updated[/] {short_stamp(c.updated_at)}"
        )

    def on_mount(self) -> None:
        self.query_one("#messages").focus()
        self.load()

    @work(group="messages", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        conversation_id = self.conversation.conversation_id
        self.conversation = await self.runtime.conversations.get(conversation_id, None)
        page = await self.runtime.conversations.messages(conversation_id, None, page=self.page, limit=PAGE_SIZE)
        await self.show(page)

    async def show(self, page: MessagePage) -> None:
        self.query_one("#conversation-header", Static).update(self.describe())
        self.pages = page.pagination.total_pages
        box = self.query_one("#messages", VerticalScroll)
        await box.remove_children()
        views: list[Widget] = []
        if self.page == 1 and self.conversation.system_prompt:
            views.append(MessageView("system", self.conversation.system_prompt, "system prompt"))
        for m in page.messages:
            views.append(MessageView(m.role, m.content, caption(m.role, m.timestamp, m.tokens, cut_off=m.cut_off)))
        if not views:
            views.append(Static("No messages yet.", classes="muted"))
        await box.mount_all(views)
        box.scroll_home(animate=False)
        first = (self.page - 1) * PAGE_SIZE + 1
        last = first + len(page.messages) - 1
        where = f"messages {first}–{last} of {count(page.pagination.total)}" if page.messages else "no messages"
        self.query_one("#message-pager", Static).update(f"{where} · page {self.page} of {max(self.pages, 1)}")

    def action_back(self) -> None:
        self.dismiss()

    def action_export(self) -> None:
        self.ask_export(self.conversation.conversation_id)

    def action_delete(self) -> None:
        self.ask_delete(self.conversation, self.dismiss)

    def action_chat(self) -> None:
        self.continue_in_chat(self.conversation)

    def action_page(self, step: int) -> None:
        wanted = self.page + step
        if 1 <= wanted <= self.pages:
            self.page = wanted
            self.load()
