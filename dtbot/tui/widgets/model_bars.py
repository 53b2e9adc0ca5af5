"""Model usage as horizontal bars: each model's share of all calls, in whole percent."""

from __future__ import annotations

from collections.abc import Mapping

from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget

NAME_WIDTH = 24
MAX_ROWS = 8  # more models than this: the smallest are summed up as `others`
FULL = "█"


class ModelBars(Widget):
    """Bars for `/api/stats`' `modelUsage`, largest first; as many as fit, the rest summed up as `others`."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Model usage"
        self.shares: dict[str, int] = {}

    def show(self, shares: Mapping[str, int]) -> None:
        if dict(shares) != self.shares:
            self.shares = dict(shares)
            self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(min(len(self.shares), MAX_ROWS), 1)

    def fitting(self, rows: int) -> list[tuple[str, int]]:
        """The shares to draw in `rows` lines: the largest, and the remainder as one `others` line."""
        items = list(self.shares.items())
        if len(items) <= rows:
            return items
        kept = items[: max(rows - 1, 0)]
        return [*kept, ("others", sum(share for _, share in items[len(kept) :]))]

    def render(self) -> Content:
        if not self.shares:
            return Content.styled("no LLM calls yet", "$text-muted")
        width, rows = self.content_region.width, max(self.content_region.height, 1)
        shown = self.fitting(rows)
        name_width = min(max(len(name) for name, _ in shown), NAME_WIDTH)
        bar_width = max(width - name_width - 6, 1)
        lines = []
        for name, share in shown:
            filled = round(bar_width * share / 100)
            lines.append(
                Content.assemble(
                    (name[:name_width].ljust(name_width), "bold"),
                    " ",
                    (FULL * filled, "$accent"),
                    (" " * (bar_width - filled), "on $boost"),
                    f"{share:>4}%",
                )
            )
        return Content("\n").join(lines)
