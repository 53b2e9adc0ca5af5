"""One stored or streamed message: who said it, when, how many tokens, and its text rendered as Markdown."""

from __future__ import annotations

import contextlib
from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widgets import Label, Markdown

from dtbot.tui.format import count, stamp


def caption(role: str, when: datetime | None = None, tokens: int | None = None, *, cut_off: bool = False) -> str:
    """`assistant · 2025-07-01 12:00:05 · 42 tokens`."""
    parts = [role]
    if when is not None:
        parts.append(stamp(when))
    if tokens is not None:
        parts.append(f"{count(tokens)} tokens")
    if cut_off:
        parts.append("cut off")
    return " · ".join(parts)


class MessageView(Vertical):
    """A message block, styled by role (`-user`, `-assistant`, `-system`, `-error`)."""

    def __init__(self, role: str, content: str, heading: str | None = None) -> None:
        super().__init__(classes=f"message -{role}")
        self.role = role
        self.text = content
        self.heading = heading or role

    def compose(self) -> ComposeResult:
        yield Label(self.heading, classes="message-caption")
        yield Markdown(self.text, classes="message-body")

    @property
    def body(self) -> Markdown:
        return self.query_one(Markdown)

    def set_caption(self, text: str) -> None:
        self.heading = text
        with contextlib.suppress(NoMatches):  # removed meanwhile (a new chat started while this answer was stopping)
            self.query_one(Label).update(text)
