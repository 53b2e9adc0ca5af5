"""What every tab's screen shares: the tab bar, the footer, the runtime, errors shown as notifications."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from dtbot.errors import DtbotError
from dtbot.services.activity import ActivityService
from dtbot.services.runtime import Runtime
from dtbot.tui.format import problem
from dtbot.tui.widgets.navbar import NavBar

if TYPE_CHECKING:
    from dtbot.tui.app import DashboardApp


def report(node: Widget | App[Any], event: Worker.StateChanged) -> None:
    """Show a worker's failure as a notification: a service error by its message and code, anything else by type."""
    error = event.worker.error
    if event.state != WorkerState.ERROR or error is None:
        return
    if isinstance(error, DtbotError):
        node.notify(problem(error), title="error", severity="error")
    else:
        node.notify(f"{type(error).__name__}: {error}", title="unexpected error", severity="error")


class DashboardScreen(Screen[None]):
    """A tab: subclasses set `MODE` and compose their body; service calls go in workers with `exit_on_error=False`."""

    MODE: ClassVar[str] = ""
    HELP: ClassVar[str] = ""  # one paragraph for the help screen

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        yield from self.compose_body()
        yield Footer(compact=True, show_command_palette=False)

    def compose_body(self) -> Iterable[Widget]:
        raise NotImplementedError

    @property
    def dashboard(self) -> DashboardApp:
        return cast("DashboardApp", self.app)

    @property
    def runtime(self) -> Runtime:
        return self.dashboard.runtime

    @property
    def activity(self) -> ActivityService:
        return self.dashboard.activity

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report(self, event)
