"""OpenAI's chat-completion request and response shapes, as the gateway takes and gives them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct, field

Role = Literal["system", "developer", "user", "assistant", "tool"]
Penalty = Annotated[float, Meta(ge=-2, le=2)]


class ChatMessage(Struct, omit_defaults=True, kw_only=True):
    role: Role
    content: str | list[dict[str, Any]] | None = None
    name: Annotated[str, Meta(max_length=64)] | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class StreamOptions(Struct, kw_only=True):
    include_usage: bool = False


class ChatCompletionRequest(Struct, kw_only=True):
    """OpenAI's request body (unknown fields are ignored, as OpenAI SDKs send many), plus `conversationId`."""

    messages: Annotated[list[ChatMessage], Meta(min_length=1, max_length=10_000)]
    model: Annotated[str, Meta(min_length=1, max_length=128)] | None = None
    temperature: Annotated[float, Meta(ge=0, le=2)] | None = None
    top_p: Annotated[float, Meta(ge=0, le=1)] | None = None
    max_tokens: Annotated[int, Meta(ge=1)] | None = None
    max_completion_tokens: Annotated[int, Meta(ge=1)] | None = None
    n: Annotated[int, Meta(ge=1, le=1, description="Only 1 is supported")] | None = None
    stop: str | Annotated[list[str], Meta(max_length=4)] | None = None
    presence_penalty: Penalty | None = None
    frequency_penalty: Penalty | None = None
    seed: int | None = None
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: Annotated[str, Meta(max_length=128)] | None = None
    conversation_id: str | None = field(default=None, name="conversationId")

    @property
    def answer_limit(self) -> int | None:
        """The answer's token limit, under either of OpenAI's names."""
        return self.max_completion_tokens or self.max_tokens


class UsageOut(Struct):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AnswerMessage(Struct, omit_defaults=True):
    role: str
    content: str | None  # no default: OpenAI always sends it, null beside tool calls
    reasoning_content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class Choice(Struct):
    index: int
    message: AnswerMessage
    finish_reason: str | None


class ChatCompletion(Struct):
    """OpenAI's `chat.completion` object."""

    id: str
    object: str
    created: int
    model: str
    choices: list[Choice]
    usage: UsageOut


class ChunkDelta(Struct, omit_defaults=True):
    role: str | None = None
    content: str | None = None
    reasoning_content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class ChunkChoice(Struct):
    index: int
    delta: ChunkDelta
    finish_reason: str | None


class ChatCompletionChunk(Struct, omit_defaults=True):
    """OpenAI's `chat.completion.chunk`; only the final usage chunk carries `usage` (and no choices)."""

    id: str
    object: str
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: UsageOut | None = None
