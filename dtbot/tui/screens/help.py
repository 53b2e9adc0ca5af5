"""`?`: every key of the current screen and the global ones, with what the screen shows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from dtbot.tui.tabs import TABS

GLOBAL_KEYS = (
    ("1 – 6", ", ".join(tab.label for tab in TABS)),
    ("?", "this help"),
    ("t", "dark or light theme"),
    ("q", "quit (Ctrl+Q inside a text field)"),
    ("Enter", "open, send or save, where it applies"),
    ("Tab / Shift+Tab", "next / previous field or table"),
    ("Escape", "leave a text field, close a dialog"),
    ("Ctrl+P", "command palette"),
)


def rows(pairs: Iterable[tuple[str, str]]) -> str:
    """Markup lines: the key in the accent colour, then what it does."""
    pairs = list(pairs)
    width = max((len(key) for key, _ in pairs), default=0)
    return "\n".join(f"  [b $accent]{escape(key.ljust(width))}[/]  {escape(what)}" for key, what in pairs)


class HelpScreen(ModalScreen[None]):
    """Built from the bindings of the screen it was opened over, so it cannot drift from them."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,q", "close", "Close")]

    def __init__(self, over: Screen[object]) -> None:
        super().__init__(classes="dialog-screen")
        self.over = over

    def screen_keys(self) -> list[tuple[str, str]]:
        """The screen's own keys, each action once, its keys joined."""
        found: dict[str, tuple[list[str], str]] = {}
        for binding in Binding.make_bindings(getattr(type(self.over), "BINDINGS", [])):
            keys, _ = found.setdefault(binding.action, ([], binding.description or binding.action))
            keys.append(self.app.get_key_display(binding))
        return [(" / ".join(keys), description) for keys, description in found.values()]

    def compose(self) -> ComposeResult:
        name = type(self.over).__name__.removesuffix("Screen")
        about = escape(getattr(self.over, "HELP", ""))
        with VerticalScroll(classes="dialog help") as box:
            box.border_title = "Keys"
            yield Static(f"[b]{name}[/b]\n{about}\n\n{rows(self.screen_keys())}", classes="help-section")
            yield Static(f"[b]Everywhere[/b]\n{rows(GLOBAL_KEYS)}", classes="help-section")
        yield Footer(compact=True, show_command_palette=False)

    def action_close(self) -> None:
        self.dismiss(None)
