"""Chat: pick a model, type, watch the answer stream in; the session is saved as a conversation."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from typing import ClassVar

from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, Markdown, Select, Static
from textual.widgets.markdown import MarkdownStream
from textual.worker import Worker

from dtbot.errors import DtbotError
from dtbot.services.chat_session import ChatSession
from dtbot.services.conversations import ConversationOut
from dtbot.tui.format import count, problem
from dtbot.tui.screens.base import DashboardScreen
from dtbot.tui.widgets.message import MessageView, caption

SOURCE = "tui"  # of the usage records and conversations the Chat tab makes
HISTORY = 20  # messages shown when continuing a stored conversation
HINT = (
    "Enter to write, Enter again to send. Ctrl+O picks the model; the conversation is saved as you go "
    "(see Conversations). Escape stops an answer or leaves the field."
)


class AnswerStream:
    """Pieces of an answer into a Markdown widget, batched by Textual's `MarkdownStream`, started at the first piece."""

    def __init__(self, view: Markdown) -> None:
        self.view = view
        self.stream: MarkdownStream | None = None
        self.written = False

    async def write(self, piece: str | None) -> None:
        if not piece:
            return
        if self.stream is None:
            self.stream = Markdown.get_stream(self.view)
        self.written = True
        await self.stream.write(piece)

    async def stop(self) -> None:
        """Show everything written so far."""
        if self.stream is not None:
            await self.stream.stop()


class ChatScreen(DashboardScreen):
    """One answer at a time; Escape stops it (what arrived is kept, marked cut off, as in `dtbot chat`)."""

    MODE = "chat"
    HELP = (
        "Enter (or i) moves into the input, Enter there sends. The first message starts a conversation "
        "(listed in Conversations). Escape stops an answer, or leaves the input so the number keys switch tabs."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new", "New chat"),
        Binding("ctrl+o", "pick_model", "Model"),
        Binding("escape", "stop_or_leave", "Stop/leave"),
        Binding("enter,i", "type", "Write"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.session = ChatSession(model="", source=SOURCE)
        self.answering: Worker[None] | None = None

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="chat-bar"):
            yield Label("model", classes="muted")
            yield Select[str]([], id="model", allow_blank=True, compact=True, prompt="pick a model")
            yield Static("new conversation", id="chat-where", classes="muted", markup=False)
        yield VerticalScroll(Static(HINT, id="chat-hint", classes="muted"), id="chat-log")
        yield Input(placeholder="Type a message · Enter sends · Escape leaves the field", id="prompt", compact=True)

    def on_mount(self) -> None:
        models = self.runtime.models.list()
        options = [(m.id if m.available else f"{m.id} (no key)", m.id) for m in models]
        select = self.query_one("#model", Select)
        select.set_options(options)
        default = self.runtime.settings.current.default_model
        available = [m.id for m in models if m.available]
        model = default if default in available else (available[0] if available else default)
        self.session = ChatSession(model=model, source=SOURCE)
        if model in {m.id for m in models}:
            select.value = model
        self.log_box.anchor()
        self.log_box.focus()  # not the input: the number keys keep switching tabs until Enter

    @property
    def log_box(self) -> VerticalScroll:
        return self.query_one("#chat-log", VerticalScroll)

    def show_where(self, text: str) -> None:
        self.query_one("#chat-where", Static).update(text)

    @on(Select.Changed, "#model")
    def model_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.session.model:
            self.switch_model(event.value)

    @work(group="chat-model", exit_on_error=False)
    async def switch_model(self, model: str) -> None:
        try:
            await self.session.use_model(self.runtime, model)
        except DtbotError as error:
            self.notify(problem(error), title="cannot switch model", severity="error")
            self.query_one("#model", Select).value = self.session.model

    @on(Input.Submitted, "#prompt")
    def send(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        if self.answering is not None and self.answering.is_running:
            self.notify("wait for the answer, or press Escape to stop it", severity="warning")
            return
        event.input.value = ""
        self.answering = self.answer(text)

    @work(group="chat", exclusive=True, exit_on_error=False)
    async def answer(self, text: str) -> None:
        """Save the session on its first message, then stream the answer into a Markdown view."""
        model = self.session.model
        await self.log_box.query("#chat-hint").remove()
        await self.log_box.mount(MessageView("user", text, "you"))
        view = MessageView("assistant", "", f"{model} …")
        await self.log_box.mount(view)
        stream = AnswerStream(view.body)
        tokens: int | None = None
        try:
            await self.session.save(self.runtime, text)
            self.show_where(f"saved as “{self.session.title}”")
            chunks = await self.session.stream(self.runtime, text)
            async with contextlib.aclosing(chunks):
                async for chunk in chunks:
                    if chunk.usage is not None:
                        tokens = chunk.usage.completion_tokens
                    for choice in chunk.choices:
                        await stream.write(choice.delta.content)
        except DtbotError as error:
            await stream.stop()
            view.set_caption(f"{model} · error")
            view.add_class("-error")
            await view.body.update(problem(error))
            return
        except asyncio.CancelledError:
            await stream.stop()
            view.set_caption(caption(model, cut_off=True) + " (stopped)")
            raise
        await stream.stop()
        view.set_caption(caption(model, tokens=tokens) if tokens is not None else model)
        if not stream.written:
            await view.body.update("*(empty answer)*")

    def action_new(self) -> None:
        if self.answering is not None:
            self.answering.cancel()
        self.session = ChatSession(model=self.session.model, source=SOURCE)
        self.log_box.remove_children()
        self.show_where("new conversation")
        self.query_one("#prompt", Input).focus()

    def action_pick_model(self) -> None:
        select = self.query_one("#model", Select)
        select.focus()
        select.action_show_overlay()

    def on_screen_resume(self) -> None:
        if self.focused is None:
            self.log_box.focus()

    def action_type(self) -> None:
        self.query_one("#prompt", Input).focus()

    def action_stop_or_leave(self) -> None:
        if self.answering is not None and self.answering.is_running:
            self.answering.cancel()
        else:
            self.log_box.focus()

    @work(group="chat", exclusive=True, exit_on_error=False)
    async def resume(self, conversation: ConversationOut) -> None:
        """Continue a stored conversation: its model and system prompt, and its latest messages shown."""
        self.session = ChatSession(
            model=conversation.model,
            source=SOURCE,
            system=conversation.system_prompt,
            conversation_id=conversation.conversation_id,
            title=conversation.title,
        )
        select = self.query_one("#model", Select)
        if conversation.model in {m.id for m in self.runtime.models.list()}:
            with select.prevent(Select.Changed):
                select.value = conversation.model
        total = conversation.message_count
        last_page = max((total + HISTORY - 1) // HISTORY, 1)
        page = await self.runtime.conversations.messages(
            conversation.conversation_id, None, page=last_page, limit=HISTORY
        )
        await self.log_box.remove_children()
        await self.log_box.mount_all(
            MessageView(m.role, m.content, caption("you" if m.role == "user" else conversation.model, m.timestamp))
            for m in page.messages
        )
        self.show_where(f"“{conversation.title or conversation.conversation_id}” · {count(total)} messages")
        self.query_one("#prompt", Input).focus()
