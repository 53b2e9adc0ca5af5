"""A panel of labelled figures, the value right-aligned: the totals and today's numbers."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget


class Figures(Widget):
    """Rows of `label … value`; `show` replaces them."""

    rows: reactive[tuple[tuple[str, str], ...]] = reactive(())

    def __init__(self, title: str, labels: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title
        self.rows = tuple((label, "-") for label in labels)

    def show(self, rows: Sequence[tuple[str, str]]) -> None:
        self.rows = tuple(rows)

    def render(self) -> Content:
        width = self.content_region.width
        lines = []
        for label, value in self.rows:
            gap = max(width - len(label) - len(value), 1)
            lines.append(Content.assemble((label, "$text-muted"), " " * gap, (value, "bold")))
        return Content("\n").join(lines)
