"""Offline token counts with a real BPE: OpenAI's o200k_base, as used by GPT-4o and later.

The vocabulary is compiled into the `toktok-rs` wheel, so nothing is downloaded
at run time (tiktoken would fetch its files on first use). It is loaded once,
on the first count, and cached by toktok for the life of the process.
Counts for other vendors' models are estimates: they use their own vocabularies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import toktok

ENCODING = "o200k_base"
TOKENS_PER_MESSAGE = 3  # <|start|>{role}<|message|>…<|end|> around each message
ROLE_TOKENS = 2  # a role name is one token; one more keeps an estimate from stored counts on the safe side
TOKENS_PER_NAME = 1
REPLY_PRIMING = 3  # <|start|>assistant<|message|> that the answer begins with
TOKENS_PER_IMAGE = 85  # OpenAI's flat charge for a low-detail image; an estimate for others
_NO_LIMIT = 1 << 62


def count_text(text: str) -> int:
    """The number of tokens in `text`."""
    # `truncate` with no real limit returns the whole count; unlike `batch_count`
    # it skips the thread pool, which costs more than counting a short text.
    return toktok.truncate(text, _NO_LIMIT, ENCODING)[1] if text else 0


def warm_tokenizer() -> None:
    """Load the vocabulary now (it loads on the first count otherwise, blocking for a few hundred ms)."""
    count_text("warm")


def count_messages(messages: list[dict[str, Any]], measure: Callable[[str], int] = count_text) -> int:
    """The prompt tokens of chat messages by OpenAI's rule: each message's fields plus a fixed overhead."""
    total = REPLY_PRIMING
    for message in messages:
        total += (
            TOKENS_PER_MESSAGE + measure(message.get("role") or "") + _count_content(message.get("content"), measure)
        )
        if name := message.get("name"):
            total += TOKENS_PER_NAME + measure(name)
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            total += measure(function.get("name") or "") + measure(function.get("arguments") or "")
    return total


def upper_bound(messages: list[dict[str, Any]]) -> int:
    """At least `count_messages(messages)`, without tokenizing: no token is shorter than one byte."""
    return count_messages(messages, _utf8_length)


def _utf8_length(text: str) -> int:
    return len(text.encode())


def _count_content(content: Any, measure: Callable[[str], int]) -> int:
    if isinstance(content, str):
        return measure(content)
    if not isinstance(content, list):
        return 0
    total = 0
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            total += measure(part.get("text") or "")
        elif part.get("type") == "image_url":
            total += TOKENS_PER_IMAGE
    return total
