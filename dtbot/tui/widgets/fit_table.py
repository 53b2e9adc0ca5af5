"""A row table that fits its width: one column stretches, optional ones drop out when the terminal is narrow."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from textual import events
from textual.content import Content
from textual.widgets import DataTable

Cell = str | Content
SCROLLBAR = 2  # room kept for the vertical scrollbar


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    width: int  # the stretching column's minimum
    optional: int = 0  # 0: always shown; else dropped when narrow, the highest number first


class FitTable(DataTable[Cell]):
    """Rows are given by key, as cells by column name; `replace` keeps the cursor on the same row."""

    def __init__(self, columns: Sequence[Column], *, stretch: str, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.spec = list(columns)
        self.stretch = stretch
        self.rows_shown: list[tuple[str, Mapping[str, Cell]]] = []
        self.widths: list[tuple[str, int]] = []

    def layout_for(self, width: int) -> list[tuple[str, int]]:
        """The columns that fit in `width` cells, and their widths."""
        pad = 2 * self.cell_padding
        kept = list(self.spec)
        for level in sorted({c.optional for c in self.spec if c.optional}, reverse=True):
            if sum(c.width + pad for c in kept) <= width - SCROLLBAR:
                break
            kept = [c for c in kept if c.optional != level]
        room = width - SCROLLBAR - sum(c.width + pad for c in kept if c.name != self.stretch) - pad
        return [(c.name, max(c.width, room) if c.name == self.stretch else c.width) for c in kept]

    def on_resize(self, event: events.Resize) -> None:
        if self.layout_for(event.size.width) != self.widths:
            self.replace(self.rows_shown)

    def replace(self, rows: Sequence[tuple[str, Mapping[str, Cell]]]) -> None:
        """Show `rows` (key, cells by column name) in place of the current ones."""
        keep = self.current_key()
        widths = self.layout_for(self.size.width) if self.size.width else [(c.name, c.width) for c in self.spec]
        if widths != self.widths:
            self.clear(columns=True)
            for name, width in widths:
                self.add_column(name, width=width, key=name)
            self.widths = widths
        else:
            self.clear()
        self.rows_shown = list(rows)
        for key, cells in rows:
            self.add_row(*(cells.get(name, "") for name, _ in widths), key=key)
        keys = [key for key, _ in rows]
        if keep in keys:
            self.move_cursor(row=keys.index(keep), animate=False)

    def current_key(self) -> str | None:
        """The key of the row under the cursor."""
        row = self.cursor_row
        return self.rows_shown[row][0] if 0 <= row < len(self.rows_shown) else None
