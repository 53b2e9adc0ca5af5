"""The one-line tab bar at the top of every screen: the tabs with their number keys, the current one lit."""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from dtbot.tui.tabs import TABS


class NavBar(Widget):
    """Shows which tab is open; a click or the tab's number key switches."""

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def render(self) -> Content:
        parts = ["[bold $accent] dtbot [/] "]
        for number, tab in enumerate(TABS, start=1):
            style = "reverse bold" if tab.mode == self.current else "$text-muted"
            parts.append(f"[{style} @click=app.switch_mode('{tab.mode}')] {number} {tab.label} [/]")
        return Content.from_markup("".join(parts))
