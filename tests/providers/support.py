"""Small helpers shared by the adapter tests."""

from __future__ import annotations

from typing import Any

from dtbot.providers import ChatRequest, Delta, Provider, Usage

API_KEY = "sk-test-0123456789abcdef"


def chat(text: str = "hello", *, system: str | None = None, **fields: Any) -> ChatRequest:
    """A request with one user message, and a system message when given."""
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": text})
    return ChatRequest(model="fake-model", messages=messages, **fields)


async def collect(provider: Provider, request: ChatRequest, into: list[Delta | Usage] | None = None) -> list[Any]:
    """Every item of a stream; `into` keeps what arrived when the stream fails."""
    items = [] if into is None else into
    async for item in provider.stream(request):
        items.append(item)
    return items


def content(items: list[Any]) -> str:
    """The streamed answer text."""
    return "".join(i.content for i in items if isinstance(i, Delta) and i.content)


def usages(items: list[Any]) -> list[Usage]:
    """The Usage items of a stream."""
    return [i for i in items if isinstance(i, Usage)]
