"""What every provider adapter takes and gives back, and the interface they share.

Adapters speak one upstream wire format each and return these normalised
types; the chat service turns them into OpenAI-shaped responses with its own
ids and the client's model name, so nothing here is shown to a client as is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from dtbot.errors import LLMServiceError

Kind = Literal["openai", "zhipu", "dashscope", "anthropic"]


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """One configured provider.

    `first_token_timeout` bounds a stream from sending the request to its first
    event; `total_timeout` bounds one attempt from start to end (a non-stream
    call has no first token before the whole answer, so only this applies to it).
    """

    name: str
    kind: Kind
    api_key: str
    base_url: str = ""
    connect_timeout: float = 5.0
    first_token_timeout: float = 60.0
    total_timeout: float = 600.0
    max_retries: int = 2
    retry_backoff: float = 0.2


class ChatRequest(msgspec.Struct, omit_defaults=True, kw_only=True):
    """An OpenAI chat request as sent upstream; `model` is the upstream model name."""

    model: str
    messages: list[dict[str, Any]]
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: str | list[str] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    seed: int | None = None
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    user: str | None = None


class Usage(msgspec.Struct):
    """Token counts of one call, as the upstream reported them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def __post_init__(self) -> None:
        # Some upstreams leave the total out; it is always the sum.
        if not self.total_tokens:
            self.total_tokens = self.prompt_tokens + self.completion_tokens


class Delta(msgspec.Struct, omit_defaults=True):
    """One piece of a streamed answer; `tool_calls` are OpenAI-shaped deltas with their `index`."""

    role: str | None = None
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None


class Completion(msgspec.Struct, omit_defaults=True, kw_only=True):
    """A whole answer; `id` and `model` are the upstream's, for logs only."""

    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    finish_reason: str | None = None
    usage: Usage | None = None
    id: str | None = None
    model: str | None = None


class ProviderError(LLMServiceError):
    """An upstream call failed (50001); the message never holds a key.

    `transient` says whether the same call may succeed later (connection
    errors, 429, 5xx); it is only worth retrying while `before_output`, that is
    before anything of the answer has been handed on.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        upstream_status: int | None = None,
        transient: bool = False,
        before_output: bool = True,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.upstream_status = upstream_status
        self.transient = transient
        self.before_output = before_output
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """True when a retry may succeed and nothing has been streamed yet."""
        return self.transient and self.before_output


class Provider(ABC):
    """One upstream LLM service."""

    name: str

    @abstractmethod
    async def complete(self, req: ChatRequest) -> Completion:
        """The whole answer to `req`."""

    @abstractmethod
    def stream(self, req: ChatRequest) -> AsyncIterator[Delta | Usage]:
        """The answer piece by piece, then the `Usage` when the upstream gives one.

        Only Deltas carrying something are yielded, the first with
        `role="assistant"`; at most one Usage comes, last.
        """

    @abstractmethod
    async def close(self) -> None:
        """Release pooled connections."""
