"""Where and how to export a conversation: the format and a file path (relative to the current directory)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, RadioButton, RadioSet

from dtbot.services.export import FORMATS, Format

SUFFIXES: dict[Format, str] = {"json": ".json", "markdown": ".md"}


@dataclass(frozen=True, slots=True)
class ExportChoice:
    form: Format
    path: Path


def format_of(path: str) -> Format:
    """The format a file name asks for: JSON for `.json`, else Markdown."""
    return "json" if path.lower().endswith(".json") else "markdown"


class ExportScreen(ModalScreen[ExportChoice | None]):
    """Dismissed with the choice, or None when cancelled. The format follows the file's suffix, and the other way."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, conversation_id: str) -> None:
        super().__init__(classes="dialog-screen")
        self.conversation_id = conversation_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog") as dialog:
            dialog.border_title = "Export conversation"
            yield Label("File (.md for Markdown, .json for JSON; Enter saves):", classes="muted")
            yield Input(self.conversation_id + SUFFIXES["markdown"], id="path", compact=True)
            with RadioSet(id="format", compact=True):
                for form in FORMATS:
                    yield RadioButton(form, value=form == "markdown", name=form)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    @property
    def path(self) -> Input:
        return self.query_one("#path", Input)

    def on_input_changed(self, event: Input.Changed) -> None:
        form = format_of(event.value)
        radios = self.query_one("#format", RadioSet)
        with radios.prevent(RadioSet.Changed):
            for button in radios.query(RadioButton):
                button.value = button.name == form

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        form: Format = "json" if event.pressed.name == "json" else "markdown"
        path = Path(self.path.value.strip() or self.conversation_id)
        with self.path.prevent(Input.Changed):
            self.path.value = str(path.with_suffix(SUFFIXES[form]))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def action_save(self) -> None:
        text = self.path.value.strip()
        if not text:
            self.notify("give a file name", severity="warning")
            return
        self.dismiss(ExportChoice(format_of(text), Path(text).expanduser()))

    def action_cancel(self) -> None:
        self.dismiss(None)
