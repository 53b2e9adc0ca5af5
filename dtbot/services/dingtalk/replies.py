"""How an answer goes out: text when short and plain, else Markdown titled by its first line, split to fit,
with the sender @-mentioned in groups; and the sensitive-word filter for questions and answers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from dtbot.dingtalk.messages import markdown_message, split_for_dingtalk, text_message

TITLE_LENGTH = 20
_MARKDOWN = re.compile(r"(^#{1,6}\s|^\s*[-*+]\s|^\s*\d+\.\s|\*\*|`|\[[^\]]+\]\([^)]+\)|^>\s)", re.MULTILINE)
_HEADING = re.compile(r"^[#>*\-+\s`]+|[*`]+")


def looks_like_markdown(text: str) -> bool:
    """True when the text uses Markdown that DingTalk would render."""
    return bool(_MARKDOWN.search(text))


def title_of(text: str) -> str:
    """The first non-empty line, without Markdown marks, cut short: the notification title."""
    first = next((line for line in text.splitlines() if line.strip()), text)
    return (_HEADING.sub("", first).strip() or "回复")[:TITLE_LENGTH]


def format_reply(answer: str, *, mention: str | None, text_limit: int) -> list[dict[str, Any]]:
    """The DingTalk message bodies for an answer, in order."""
    at = [mention] if mention else []
    if len(answer) <= text_limit and not looks_like_markdown(answer):
        return [text_message(answer, at)]
    parts = split_for_dingtalk(answer)
    title = title_of(answer)
    bodies = []
    for number, part in enumerate(parts, start=1):
        last = number == len(parts)
        heading = title if len(parts) == 1 else f"{title} ({number}/{len(parts)})"
        text = f"{part}\n\n@{mention}" if mention and last else part  # markdown renders the @ from the text
        bodies.append(markdown_message(heading, text, at if last else []))
    return bodies


class WordFilter:
    """The optional sensitive-word list: questions containing one are refused, answers are masked."""

    def __init__(self, words: Sequence[str]) -> None:
        cleaned = sorted({word.strip() for word in words if word.strip()}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, cleaned)), re.IGNORECASE) if cleaned else None

    def hits(self, text: str) -> bool:
        """True when the text contains a listed word."""
        return bool(self._pattern and self._pattern.search(text))

    def mask(self, text: str) -> str:
        """The text with each listed word replaced by asterisks."""
        return self._pattern.sub(lambda m: "*" * len(m[0]), text) if self._pattern else text
