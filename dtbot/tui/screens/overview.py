"""Overview: `/api/stats`' totals and today's figures, the last hour per minute, model usage and health, live."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Static

from dtbot.clock import local, utcnow
from dtbot.errors import DtbotError
from dtbot.services.activity import MinuteBucket
from dtbot.services.stats import Stats
from dtbot.tui.format import clock, count, problem
from dtbot.tui.screens.base import DashboardScreen
from dtbot.tui.widgets.activity_chart import ActivityChart
from dtbot.tui.widgets.figures import Figures
from dtbot.tui.widgets.health import HealthPanel
from dtbot.tui.widgets.model_bars import ModelBars

HOUR = 60


class OverviewScreen(DashboardScreen):
    """Refreshes itself every `refresh_seconds` while it is on screen; a slow database never blocks the keys."""

    MODE = "overview"
    HELP = "Live figures, refreshed every second while this tab is open. Times are in the configured time zone."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "reload", "Refresh"),
        Binding("p", "pause", "Pause"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.paused = False
        self.busy = False

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="figures"):
            yield Figures("Totals", ["users", "conversations", "messages", "tokens"], id="totals")
            yield Figures("Today", ["messages", "tokens", "calls, last hour", "errors, last hour"], id="today")
            yield HealthPanel(id="health")
        yield ActivityChart(id="activity")
        yield ModelBars(id="models")
        yield Static("loading…", id="overview-status", classes="status-line")

    def on_mount(self) -> None:
        self.set_interval(self.dashboard.refresh_seconds, self.tick)
        self.load()

    def on_screen_resume(self) -> None:
        self.tick()

    def tick(self) -> None:
        if not self.paused and not self.busy and self.is_current:
            self.load()

    def action_reload(self) -> None:
        if not self.busy:
            self.load()

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.notify("paused: press p to resume" if self.paused else "live again")

    @work(group="overview", exit_on_error=False)
    async def load(self) -> None:
        """One refresh; the health check first, as it still answers while the database is down."""
        self.busy = True
        status = self.query_one("#overview-status", Static)
        try:
            self.query_one(HealthPanel).show(await self.runtime.health.check())
            stats = await self.runtime.stats.summary()
            minutes = await self.activity.per_minute(HOUR)
        except DtbotError as error:
            status.update(f"[$error]{problem(error)}[/]")
            status.add_class("failing")
            return
        finally:
            self.busy = False
        self.show(stats, minutes)
        status.remove_class("failing")
        when = clock(local(utcnow(), self.runtime.zone))
        status.update(f"updated {when}" + (" · paused" if self.paused else ""))

    def show(self, stats: Stats, minutes: Sequence[MinuteBucket]) -> None:
        totals = [
            ("users", count(stats.total_users)),
            ("conversations", count(stats.total_conversations)),
            ("messages", count(stats.total_messages)),
            ("tokens", count(stats.total_tokens)),
        ]
        self.query_one("#totals", Figures).show(totals)
        today = [
            ("messages", count(stats.today_messages)),
            ("tokens", count(stats.today_tokens)),
            ("calls, last hour", count(sum(minute.calls for minute in minutes))),
            ("errors, last hour", count(sum(minute.errors for minute in minutes))),
        ]
        self.query_one("#today", Figures).show(today)
        self.query_one(ModelBars).show(stats.model_usage)
        self.query_one(ActivityChart).show(minutes)
