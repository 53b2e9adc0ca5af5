"""Requests: a live tail of the latest LLM calls, and the DingTalk messages received, newest first."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from dtbot.errors import DtbotError
from dtbot.services.activity import CallRecord
from dtbot.services.dingtalk.inbox import InboxEntry
from dtbot.tui.format import clock, count, duration, one_line, problem
from dtbot.tui.screens.base import DashboardScreen
from dtbot.tui.widgets.fit_table import Cell, Column, FitTable

CALLS = 100
INBOX = 50
CALL_COLUMNS = (
    Column("time", 8),
    Column("model", 12),
    Column("status", 9),
    Column("tokens", 11),
    Column("latency", 7),
    Column("first", 6),
    Column("source", 8, optional=1),
    Column("provider", 9, optional=2),
    Column("request", 14, optional=3),
)
INBOX_COLUMNS = (
    Column("time", 8),
    Column("sender", 10),
    Column("status", 10),
    Column("text", 16),
    Column("via", 15, optional=2),
    Column("reply", 24, optional=1),
)
STATUS_STYLES = {"ok": "$success", "answered": "$success", "error": "$error", "failed": "$error"}


def coloured(status: str) -> Content:
    return Content.styled(status, STATUS_STYLES.get(status, "$warning"))


def call_cells(call: CallRecord) -> dict[str, Cell]:
    status = f"{call.status} {call.error_code}" if call.error_code else call.status
    return {
        "time": clock(call.time),
        "model": call.model,
        "status": coloured(status),
        "tokens": f"{count(call.prompt_tokens)}→{count(call.completion_tokens)}",
        "latency": duration(call.latency_ms),
        "first": duration(call.ttft_ms),
        "source": call.source,
        "provider": call.provider,
        "request": call.request_id or "-",
    }


def inbox_cells(entry: InboxEntry) -> dict[str, Cell]:
    return {
        "time": clock(entry.created_at),
        "sender": entry.sender_nick or entry.sender_id or "-",
        "status": coloured(entry.status),
        "text": one_line(entry.text, 200),
        "via": entry.delivered_via or "-",
        "reply": one_line(entry.error or entry.reply or "", 200),
    }


class RequestsScreen(DashboardScreen):
    """Refreshed every `refresh_seconds` while on screen; the inbox table appears once DingTalk messages exist."""

    MODE = "requests"
    HELP = (
        "Each LLM call leaves a usage record, written in batches about every half second: tokens are "
        "prompt→completion, `first` is the time to the first token of a streamed answer. "
        "The DingTalk table lists the robot's inbox."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "pause", "Pause"),
        Binding("e", "errors", "Errors"),
        Binding("r", "reload", "Refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.paused = False
        self.errors_only = False
        self.busy = False
        self.shown_calls: list[str] = []
        self.shown_inbox: list[tuple[str, str]] = []

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(id="calls-panel", classes="panel") as calls:
            calls.border_title = "LLM calls"
            yield FitTable(CALL_COLUMNS, stretch="model", id="calls")
        with Vertical(id="inbox-panel", classes="panel") as inbox:
            inbox.border_title = "DingTalk messages"
            yield FitTable(INBOX_COLUMNS, stretch="text", id="inbox")
        yield Static("loading…", id="requests-status", classes="status-line")

    def on_mount(self) -> None:
        self.query_one("#inbox-panel").display = False
        self.query_one("#calls", FitTable).focus()
        self.set_interval(self.dashboard.refresh_seconds, self.tick)
        self.load()

    def on_screen_resume(self) -> None:
        self.tick()

    def tick(self) -> None:
        if not self.paused and not self.busy and self.is_current:
            self.load()

    @work(group="requests", exit_on_error=False)
    async def load(self) -> None:
        self.busy = True
        status = self.query_one("#requests-status", Static)
        try:
            calls = await self.activity.recent_calls(CALLS, errors_only=self.errors_only)
            inbox = await self.runtime.inbox.recent(limit=INBOX)
        except DtbotError as error:
            status.update(f"[$error]{problem(error)}[/]")
            return
        finally:
            self.busy = False
        self.show_calls(calls)
        self.show_inbox(inbox)
        what = "errors" if self.errors_only else "calls"
        state = "paused · p resumes" if self.paused else "live"
        status.update(f"latest {len(calls)} {what} · {len(inbox)} DingTalk messages · {state}")

    def show_calls(self, calls: Sequence[CallRecord]) -> None:
        ids = [call.id for call in calls]
        if ids == self.shown_calls:
            return
        self.shown_calls = ids
        self.query_one("#calls", FitTable).replace([(call.id, call_cells(call)) for call in calls])

    def show_inbox(self, entries: Sequence[InboxEntry]) -> None:
        seen = [(entry.id, entry.status) for entry in entries]
        self.query_one("#inbox-panel").display = bool(entries)
        if seen == self.shown_inbox:
            return
        self.shown_inbox = seen
        self.query_one("#inbox", FitTable).replace([(entry.id, inbox_cells(entry)) for entry in entries])

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.load()

    def action_errors(self) -> None:
        self.errors_only = not self.errors_only
        self.load()

    def action_reload(self) -> None:
        self.load()
