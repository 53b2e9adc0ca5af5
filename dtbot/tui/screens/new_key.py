"""Creating an API key: its name and role, then its secret, shown once and copyable."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, RadioButton, RadioSet, Static
from textual.worker import Worker

from dtbot.errors import DtbotError
from dtbot.services.keys import ROLES, CreatedKey, KeyService
from dtbot.tui.format import problem
from dtbot.tui.screens.base import report


class NewKeyScreen(ModalScreen[CreatedKey | None]):
    """Asks for a name and a role and creates the key; dismissed with it, or None when cancelled.

    The service's refusal (an empty name …) shows in the dialog, which stays open.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "create", "Create"),
    ]

    def __init__(self, keys: KeyService) -> None:
        super().__init__(classes="dialog-screen")
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "New API key"
            yield Label("Name (Enter creates):", classes="muted")
            yield Input(placeholder="e.g. ci-bot", id="key-name", compact=True)
            yield Label("Role:", classes="muted")
            with RadioSet(id="key-role", compact=True):
                for role in ROLES:
                    yield RadioButton(role, value=role == "user", name=role)
            yield Static("", id="key-error", classes="error-text")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#key-name", Input).focus()

    def on_input_submitted(self) -> None:
        self.action_create()

    def action_create(self) -> None:
        button = self.query_one("#key-role", RadioSet).pressed_button
        role = button.name if button is not None and button.name else "user"
        self.create(self.query_one("#key-name", Input).value, role)

    @work(group="new-key", exclusive=True, exit_on_error=False)
    async def create(self, name: str, role: str) -> None:
        try:
            created = await self.keys.create(name, role)
        except DtbotError as error:
            self.query_one("#key-error", Static).update(problem(error))
            return
        self.dismiss(created)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report(self, event)


class SecretScreen(ModalScreen[None]):
    """The new key's secret: the only time anyone sees it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "copy", "Copy"),
        Binding("escape,enter", "close", "Done"),
    ]

    def __init__(self, created: CreatedKey) -> None:
        super().__init__(classes="dialog-screen")
        self.created = created

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = f"Key “{self.created.name}” ({self.created.role}) created"
            yield Static("Copy the secret now: it is shown only this once.", classes="dialog-text")
            yield Static(self.created.key, id="secret", markup=False)
            yield Static("c copies it to the clipboard (or select it with the mouse) · Enter closes", classes="muted")
        yield Footer(compact=True, show_command_palette=False)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.created.key)
        self.notify("secret copied to the clipboard")

    def action_close(self) -> None:
        self.dismiss(None)
