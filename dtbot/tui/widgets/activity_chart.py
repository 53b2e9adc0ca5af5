"""Calls and tokens per minute over the last hour, as two sparklines with their totals and peaks."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Sparkline

from dtbot.services.activity import MinuteBucket
from dtbot.tui.format import compact


class ActivityRow(Horizontal):
    """One measure: its name, a sparkline, and `total · peak`."""

    def __init__(self, name: str, *, id: str) -> None:
        super().__init__(id=id, classes="activity-row")
        self.measure = name

    def compose(self) -> ComposeResult:
        yield Label(self.measure, classes="activity-name")
        yield Sparkline([], summary_function=max)
        yield Label("", classes="activity-summary")

    def show(self, values: Sequence[int]) -> None:
        self.query_one(Sparkline).data = list(values)
        total, peak = sum(values), max(values, default=0)
        self.query_one(".activity-summary", Label).update(f"{compact(total):>6} · peak {compact(peak):>5}")


class ActivityChart(Vertical):
    """The last hour, a minute per bar, the current minute on the right."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Last hour, per minute"

    def compose(self) -> ComposeResult:
        yield ActivityRow("calls", id="calls")
        yield ActivityRow("tokens", id="tokens")

    def show(self, minutes: Sequence[MinuteBucket]) -> None:
        self.query_one("#calls", ActivityRow).show([minute.calls for minute in minutes])
        self.query_one("#tokens", ActivityRow).show([minute.tokens for minute in minutes])
        if minutes:
            self.border_subtitle = f"{minutes[0].start:%H:%M} – {minutes[-1].start:%H:%M}"
