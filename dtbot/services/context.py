"""Fit a conversation into a model's context: the oldest whole turns go first.

The system prompt and the new messages are always kept; stored history is
added newest turn first while it fits beside the tokens reserved for the
answer. A turn is a user message with the answers that follow it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dtbot.errors import TokenLimitExceeded
from dtbot.services.conversations import Turn
from dtbot.tokens import count_messages


def _turns(history: Sequence[Turn]) -> list[list[Turn]]:
    grouped: list[list[Turn]] = []
    for message in history:
        if message.role == "user" or not grouped:
            grouped.append([])
        grouped[-1].append(message)
    return grouped


def _cost(turn: Sequence[Turn]) -> int:
    return sum(message.cost for message in turn)


def fit(
    system: str, history: Sequence[Turn], new: list[dict[str, Any]], *, reserve: int, context: int
) -> tuple[list[dict[str, Any]], int]:
    """The messages to send and their token count; 40005 when even the newest message cannot fit."""
    head = [{"role": "system", "content": system}] if system else []
    fixed = count_messages(head + new)
    if fixed + reserve > context:
        raise TokenLimitExceeded(
            f"Token超出限制: the system prompt and new messages ({fixed} tokens) plus the answer ({reserve}) "
            f"exceed the model's context of {context} tokens"
        )
    budget = context - reserve - fixed
    kept: list[list[Turn]] = []
    for turn in reversed(_turns(history)):
        cost = _cost(turn)
        if cost > budget:
            break
        kept.append(turn)
        budget -= cost
    past = [{"role": m.role, "content": m.content} for turn in reversed(kept) for m in turn]
    used = context - reserve - budget
    return head + past + new, used
