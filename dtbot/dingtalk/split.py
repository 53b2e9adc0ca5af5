"""Cutting a long answer into messages that each fit DingTalk's body limit, in order.

Sizes are bytes of the part encoded as a JSON string twice: once for a webhook
body, once more for the OpenAPI's `msgParam`, a JSON string inside JSON. So a
part that fits one path fits the other. Both encodings escape character by
character, so a text's size is the sum of its characters' sizes.
"""

from __future__ import annotations

import re
from functools import lru_cache

import msgspec

from dtbot.dingtalk.outgoing import BODY_LIMIT

HEADROOM = 1_000  # for the rest of the body: msgtype, title, at, and the `@mention` added to a last part
DEFAULT_LIMIT = BODY_LIMIT - HEADROOM
MIN_LIMIT = 64
_QUOTES = 6  # `"\"` + `\""`: what a twice-encoded string costs besides its characters
_FENCE = re.compile(r"^\s*(?P<marker>`{3,}|~{3,})")
PARAGRAPH, LINE = "\n\n", "\n"


def encoded_size(text: str) -> int:
    """Bytes of `text` as a JSON string inside a JSON string (UTF-8, as our client sends it)."""
    return len(msgspec.json.encode(msgspec.json.encode(text).decode()))


def _cost(text: str) -> int:
    return encoded_size(text) - _QUOTES


@lru_cache(maxsize=4096)
def _char_cost(char: str) -> int:
    return _cost(char)


def split_for_dingtalk(text: str, limit_bytes: int = DEFAULT_LIMIT) -> list[str]:
    """Ordered parts of `text`, each of `encoded_size` at most `limit_bytes`.

    Cuts between paragraphs where it can, else between lines, else between
    characters (never inside one). A code block is moved whole to the next part
    when it fits in one; one too long for any part is cut between lines and
    closed and reopened around the cut, so that every part renders.
    """
    if limit_bytes < MIN_LIMIT:
        raise ValueError(f"limit_bytes must be at least {MIN_LIMIT}")
    budget = limit_bytes - _QUOTES
    if _cost(text) <= budget:
        return [text]
    units: list[tuple[str, str]] = []
    for separator, block in _blocks(text):
        pieces = [block] if _cost(block) <= budget else _split_block(block, budget)
        units.append((separator, pieces[0]))
        units.extend((LINE, piece) for piece in pieces[1:])
    return _pack(units, budget)


def _pack(units: list[tuple[str, str]], budget: int) -> list[str]:
    """Joins units greedily; a separator at a cut is dropped."""
    parts: list[str] = []
    current, cost = "", 0
    for separator, unit in units:
        unit_cost = _cost(unit)
        joined = cost + _cost(separator) + unit_cost
        if current and joined <= budget:
            current, cost = current + separator + unit, joined
            continue
        if current:
            parts.append(current)
        current, cost = unit, unit_cost
    if current:
        parts.append(current)
    return parts


def _blocks(text: str) -> list[tuple[str, str]]:
    """Paragraphs and code blocks, each with the separator before it (a blank line, or a line break)."""
    blocks: list[tuple[str, str]] = []
    lines: list[str] = []
    separator = PARAGRAPH
    fence: str | None = None  # the marker of the open code block

    def flush(next_separator: str) -> None:
        nonlocal separator
        if lines:
            blocks.append((separator, LINE.join(lines)))
            lines.clear()
            separator = next_separator
        elif next_separator == PARAGRAPH:
            separator = PARAGRAPH

    for line in text.split(LINE):
        if fence is not None:
            lines.append(line)
            if _closes(fence, line):
                fence = None
                flush(LINE)
        elif not line.strip():
            flush(PARAGRAPH)
        elif (opening := _FENCE.match(line)) is not None:
            flush(LINE)
            lines.append(line)
            fence = opening["marker"]
        else:
            lines.append(line)
    flush(LINE)
    return [(separator, block) for separator, block in blocks if block.strip()]


def _closes(fence: str, line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(fence) and not stripped.strip(fence[0])


class _Cutter:
    """Fills pieces line by line within the budget, closing an open code block at a cut and reopening it after."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.pieces: list[str] = []
        self.lines: list[str] = []
        self.cost = 0
        self.opening: str | None = None  # the line that opened the current code block
        self.fence: str | None = None
        self.reopened = False  # the piece holds only the reopened code block's first line

    def room(self, fence: str | None) -> int:
        """What a next line may cost, keeping space for the closing marker while in a code block."""
        join = _cost(LINE) if self.lines else 0
        closing = _cost(LINE + fence) if fence else 0
        return self.budget - self.cost - join - closing

    def add(self, line: str) -> None:
        opening, fence = self.opening, self.fence
        if fence is None and (found := _FENCE.match(line)) is not None:
            opening, fence = line, found["marker"]
        elif fence is not None and _closes(fence, line):
            opening, fence = None, None
        line_cost = _cost(line)
        if line_cost > self.room(fence) and self.lines and not self.reopened:
            self.cut()
        if line_cost > self.room(fence):
            self.add_long(line, fence)
        else:
            self.append(line, line_cost)
        self.opening, self.fence = opening, fence

    def add_long(self, line: str, fence: str | None) -> None:
        """A line too long for any piece, cut between characters."""
        start = 0
        while start < len(line):
            room, end, cost = self.room(fence), start, 0
            while end < len(line) and cost + _char_cost(line[end]) <= room:
                cost += _char_cost(line[end])
                end += 1
            end = max(end, start + 1)  # MIN_LIMIT keeps every character within a piece's room
            self.append(line[start:end], cost)
            start = end
            if start < len(line):
                self.cut()

    def append(self, line: str, cost: int) -> None:
        self.cost += cost + (_cost(LINE) if self.lines else 0)
        self.lines.append(line)
        self.reopened = False

    def cut(self) -> None:
        if self.fence is not None:
            self.lines.append(self.fence)
        self.pieces.append(LINE.join(self.lines))
        self.lines, self.cost = [], 0
        if self.opening is not None:
            self.append(self.opening, _cost(self.opening))
            self.reopened = True

    def finish(self) -> list[str]:
        if self.lines:
            self.pieces.append(LINE.join(self.lines))
        return self.pieces


def _split_block(block: str, budget: int) -> list[str]:
    cutter = _Cutter(budget)
    for line in block.split(LINE):
        cutter.add(line)
    return cutter.finish()
