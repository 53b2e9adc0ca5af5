"""The dashboard application: one runtime, six screens switched with the number keys."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.logging import TextualHandler
from textual.screen import ModalScreen
from textual.worker import Worker

from dtbot import logs
from dtbot.config import Config
from dtbot.errors import DtbotError
from dtbot.services.conversations import ConversationOut
from dtbot.services.runtime import Runtime
from dtbot.tui.format import problem
from dtbot.tui.screens.base import report
from dtbot.tui.screens.chat import ChatScreen
from dtbot.tui.screens.conversations import ConversationsScreen
from dtbot.tui.screens.help import HelpScreen
from dtbot.tui.screens.keys import KeysScreen
from dtbot.tui.screens.overview import OverviewScreen
from dtbot.tui.screens.requests import RequestsScreen
from dtbot.tui.screens.settings import SettingsScreen
from dtbot.tui.tabs import TABS

START_RETRY_SECONDS = 5.0
THEMES = ("textual-dark", "textual-light")


class DashboardApp(App[None]):
    """The admin's live window on dtbot, working on the database and cache through the services."""

    TITLE = "dtbot"
    CSS_PATH = Path(__file__).with_name("dashboard.tcss")  # absolute: subclasses elsewhere keep it
    MODES: ClassVar = {
        "overview": OverviewScreen,
        "conversations": ConversationsScreen,
        "chat": ChatScreen,
        "settings": SettingsScreen,
        "keys": KeysScreen,
        "requests": RequestsScreen,
    }
    DEFAULT_MODE = "overview"
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(str(number), f"switch_mode('{tab.mode}')", tab.label, show=False)
            for number, tab in enumerate(TABS, start=1)
        ),
        Binding("question_mark", "help", "Help"),
        Binding("escape", "leave_field", "Leave field", show=False),
        Binding("t", "toggle_theme", "Theme"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, config: Config, *, refresh_seconds: float = 1.0) -> None:
        super().__init__()
        self.config = config
        self.refresh_seconds = refresh_seconds
        self.runtime = Runtime(config)
        self.activity = self.runtime.activity
        self.started = asyncio.Event()

    def on_mount(self) -> None:
        self.start_runtime()

    @work(group="runtime", exit_on_error=False)
    async def start_runtime(self) -> None:
        """Load the settings and keep them current, write chat usage: what a server does, minus the robot."""
        while True:
            try:
                await self.runtime.start()
            except DtbotError as error:
                self.notify(problem(error), title="cannot start", severity="error", timeout=START_RETRY_SECONDS)
                await asyncio.sleep(START_RETRY_SECONDS)
                continue
            self.started.set()
            return

    async def on_unmount(self) -> None:
        await self.runtime.close()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Switching tabs under an open dialog would leave the dialog behind on the old tab.
        return not (action in ("switch_mode", "help") and isinstance(self.screen, ModalScreen))

    async def continue_chat(self, conversation: ConversationOut) -> None:
        """Open the Chat tab inside a stored conversation."""
        await self.switch_mode("chat")
        if isinstance(self.screen, ChatScreen):
            self.screen.resume(conversation)

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.screen))

    def action_leave_field(self) -> None:
        """Escape: nothing focused, so the number keys switch tabs again."""
        self.screen.set_focus(None)

    def action_toggle_theme(self) -> None:
        self.theme = THEMES[1] if self.theme == THEMES[0] else THEMES[0]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report(self, event)


def run(config: Config) -> None:
    """Run the dashboard in this terminal until the user quits."""
    logger = logging.getLogger(logs.LOGGER)
    if not logger.handlers:  # the log would draw over the screen: send it to Textual's devtools console
        logger.addHandler(TextualHandler())
        logger.propagate = False
    DashboardApp(config).run()
