"""The gateway: one OpenAI-compatible chat completion over every provider, with limits, fallbacks and usage.

A request is planned first (model, limits, conversation context, token
counts: every 4xx is raised before any upstream call), then sent to the model
and, when that fails before any output, to each fallback in turn. Every
upstream call leaves a usage record, also when the client hangs up mid-stream.
Inside a conversation the new messages and the answer are stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from dtbot import logs
from dtbot.errors import InvalidParameter, LLMServiceError, ModelNotSupported, TokenLimitExceeded
from dtbot.metrics import LLM_CALLS, LLM_LATENCY, LLM_TOKENS, LLM_TTFT
from dtbot.providers import ChatRequest, Completion, Delta, ProviderError, ProviderRegistry, Usage
from dtbot.services.chat_types import (
    AnswerMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    ChunkDelta,
    UsageOut,
)
from dtbot.services.context import fit
from dtbot.services.conversations import ConversationService, turn
from dtbot.services.keys import Principal
from dtbot.services.models import CatalogModel, ModelService
from dtbot.services.settings import SettingsService
from dtbot.services.usage import STATUS_CANCELLED, STATUS_ERROR, STATUS_OK, UsageEntry, UsageRecorder
from dtbot.store.models import Conversation
from dtbot.tokens import count_messages, count_text, upper_bound

_log = logs.get("chat")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asked: the API key (None for the CLI and the robot, which see everything), for access and usage."""

    principal: Principal | None = None
    request_id: str | None = None
    source: str = "api"

    @property
    def key_id(self) -> str | None:
        return self.principal.key_id if self.principal else None


@dataclass(slots=True)
class Plan:
    """A checked request: the models to try, the messages to send and their token count."""

    request: ChatCompletionRequest
    model_id: str
    chain: list[CatalogModel]
    messages: list[dict[str, Any]]
    counted: int | None  # the prompt's tokens, when they had to be counted to check the limits
    max_tokens: int
    temperature: float | None = None
    conversation_id: str | None = None
    new_messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def prompt_tokens(self) -> int:
        """The prompt's tokens, counted on first use (only needed when a provider reports no usage)."""
        if self.counted is None:
            self.counted = count_messages(self.messages)
        return self.counted

    def upstream(self, model: CatalogModel) -> ChatRequest:
        """The request for one model of the chain."""
        body = self.request
        return ChatRequest(
            model=model.upstream,
            messages=self.messages,
            temperature=self.temperature,
            top_p=body.top_p,
            max_tokens=self.max_tokens,
            stop=body.stop,
            presence_penalty=body.presence_penalty,
            frequency_penalty=body.frequency_penalty,
            seed=body.seed,
            response_format=body.response_format,
            tools=body.tools,
            tool_choice=body.tool_choice,
            user=body.user,
        )


class ChatService:
    """Plans, sends and accounts for chat completions."""

    def __init__(
        self,
        models: ModelService,
        providers: ProviderRegistry,
        settings: SettingsService,
        recorder: UsageRecorder,
        conversations: ConversationService,
    ) -> None:
        self._models = models
        self._providers = providers
        self._settings = settings
        self._recorder = recorder
        self._conversations = conversations
        self._background: set[asyncio.Task[None]] = set()

    async def plan(self, body: ChatCompletionRequest, caller: Caller) -> Plan:
        """Check the request against the settings, the model and the conversation; raises 4xx errors."""
        settings = self._settings.current
        if body.stream and not settings.enable_stream_response:
            raise InvalidParameter("参数格式错误: stream: streaming is disabled on this server (enableStreamResponse)")
        conversation: Conversation | None = None
        if body.conversation_id:
            conversation = await self._conversations.row(body.conversation_id, caller.principal)
        model_id = body.model or (conversation.model if conversation else settings.default_model)
        model = self._models.resolve(model_id)
        asked = body.answer_limit or (conversation.max_tokens if conversation else None)
        if asked is not None and asked > settings.max_tokens_per_request:
            raise TokenLimitExceeded(
                f"Token超出限制: max_tokens {asked} exceeds maxTokensPerRequest {settings.max_tokens_per_request}"
            )
        new = [msgspec.to_builtins(message) for message in body.messages]
        if conversation is not None:
            history = await self._conversations.history(conversation.id, budget=model.context - (asked or 1))
            messages, prompt = fit(conversation.system_prompt, history, new, reserve=asked or 1, context=model.context)
        elif upper_bound(new) + (asked or settings.max_tokens_per_request) <= model.context:
            messages, prompt = new, None  # it fits whatever the exact count: no need to tokenize now
        else:
            messages, prompt = new, count_messages(new)
            if prompt + (asked or 1) > model.context:
                raise TokenLimitExceeded(
                    f"Token超出限制: the prompt ({prompt} tokens) plus max_tokens ({asked or 1}) "
                    f"exceed {model_id}'s context of {model.context} tokens"
                )
        temperature = body.temperature
        if temperature is None and conversation is not None:
            temperature = conversation.temperature
        return Plan(
            request=body,
            model_id=model_id,
            chain=[model, *self._fallbacks(model)],
            messages=messages,
            counted=prompt,
            max_tokens=asked or min(settings.max_tokens_per_request, model.context - (prompt or 0)),
            temperature=temperature,
            conversation_id=conversation.id if conversation else None,
            new_messages=[m for m in new if m["role"] != "system"],
        )

    def _fallbacks(self, model: CatalogModel) -> list[CatalogModel]:
        chain = []
        for fallback in model.fallbacks:
            with contextlib.suppress(ModelNotSupported):  # an unconfigured fallback is skipped
                chain.append(self._models.resolve(fallback))
        return chain

    async def complete(self, body: ChatCompletionRequest, caller: Caller) -> ChatCompletion:
        """The whole answer, from the first model of the chain that succeeds; 50001 when none does."""
        plan = await self.plan(body, caller)
        failures: list[ProviderError] = []
        for model in plan.chain:
            started = time.perf_counter()
            try:
                answer = await self._providers.get(model.provider).complete(plan.upstream(model))
            except ProviderError as error:
                self.record(plan, model, caller, started, status=STATUS_ERROR, error=error)
                failures.append(error)
                continue
            usage = answer.usage or Usage(plan.prompt_tokens, _local_count(answer))
            self.record(plan, model, caller, started, usage=usage)
            await self.remember(plan, answer.content or "")
            return _completion(plan.model_id, answer, usage)
        raise _failed(failures)

    async def stream(self, body: ChatCompletionRequest, caller: Caller) -> AsyncIterator[ChatCompletionChunk]:
        """The answer as OpenAI chunks. The upstream stream is opened here, so that failures before any
        output fall back to the next model or raise 50001 before the caller has begun answering."""
        plan = await self.plan(body, caller)
        failures: list[ProviderError] = []
        for model in plan.chain:
            started = time.perf_counter()
            upstream = self._providers.get(model.provider).stream(plan.upstream(model))
            try:
                first = await anext(upstream, None)
            except ProviderError as error:
                self.record(plan, model, caller, started, status=STATUS_ERROR, error=error)
                failures.append(error)
                continue
            return _Relay(self, plan, model, caller, started, upstream, first).chunks()
        raise _failed(failures)

    def record(
        self,
        plan: Plan,
        model: CatalogModel,
        caller: Caller,
        started: float,
        *,
        usage: Usage | None = None,
        status: str = STATUS_OK,
        error: ProviderError | None = None,
        ttft: float | None = None,
    ) -> None:
        """Queue the usage record of one upstream call."""
        usage = usage or Usage(0, 0)
        latency = time.perf_counter() - started
        if error is not None:
            _log.warning(
                "%s call for %s failed after %.0f ms: %s", model.provider, model.id, latency * 1000, error.message
            )
        observe_call(
            model.provider,
            model.id,
            status,
            usage.prompt_tokens,
            usage.completion_tokens,
            latency,
            None if ttft is None else ttft - started,
        )
        self._recorder.add(
            UsageEntry(
                model=model.id,
                provider=model.provider,
                status=status,
                api_key_id=caller.key_id,
                user_id=plan.request.user or "",
                source=caller.source,
                stream=plan.request.stream,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                latency_ms=latency * 1000,
                ttft_ms=None if ttft is None else (ttft - started) * 1000,
                error_code=None if error is None else error.code,
                cost=model.cost(usage.prompt_tokens, usage.completion_tokens),
                currency=model.currency,
                conversation_id=plan.conversation_id,
                request_id=caller.request_id,
            )
        )

    async def remember(self, plan: Plan, answer: str, *, cut_off: bool = False) -> None:
        """Store the new messages and the answer in the plan's conversation, if it has one."""
        if plan.conversation_id is None:
            return
        turns = [turn(m["role"], _text(m.get("content"))) for m in plan.new_messages]
        await self._conversations.append(plan.conversation_id, [*turns, turn("assistant", answer, cut_off=cut_off)])

    def in_background(self, work: Awaitable[None]) -> None:
        """Run `work` after the caller has gone (a cancelled stream cannot await); `drain` waits for it."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for background work, at shutdown."""
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)


class _Relay:
    """Turns one upstream stream into OpenAI chunks, and records its usage however it ends."""

    def __init__(
        self,
        chat: ChatService,
        plan: Plan,
        model: CatalogModel,
        caller: Caller,
        started: float,
        upstream: AsyncIterator[Delta | Usage],
        first: Delta | Usage | None,
    ) -> None:
        self.chat, self.plan, self.model, self.caller = chat, plan, model, caller
        self.started, self.upstream, self.first = started, upstream, first
        self.id = new_completion_id()
        self.created = int(time.time())
        self.content: list[str] = []
        self.reasoning: list[str] = []
        self.usage: Usage | None = None
        self.ttft: float | None = None

    def _chunk(self, delta: ChunkDelta, finish: str | None = None, usage: Usage | None = None) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id=self.id,
            object="chat.completion.chunk",
            created=self.created,
            model=self.plan.model_id,
            choices=[] if usage else [ChunkChoice(index=0, delta=delta, finish_reason=finish)],
            usage=usage and UsageOut(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens),
        )

    def _counted(self) -> Usage:
        """The upstream's usage, or a local count of what was streamed."""
        return self.usage or Usage(self.plan.prompt_tokens, count_text("".join(self.reasoning + self.content)))

    async def chunks(self) -> AsyncIterator[ChatCompletionChunk]:
        """Role chunk, content chunks, finish chunk, then the usage chunk when asked for.

        A failure mid-stream is raised after its usage is recorded; a consumer
        that stops early (a client hanging up) is recorded as cancelled, and
        in a conversation what it got is stored, marked as cut off.
        """
        status, error, finish = STATUS_CANCELLED, None, None
        try:
            yield self._chunk(ChunkDelta(role="assistant"))
            item = self.first
            while item is not None:
                if isinstance(item, Usage):
                    self.usage = item
                else:
                    finish = item.finish_reason or finish
                    delta = ChunkDelta(
                        content=item.content, reasoning_content=item.reasoning_content, tool_calls=item.tool_calls
                    )
                    if delta.content or delta.reasoning_content or delta.tool_calls:
                        self.ttft = self.ttft or time.perf_counter()
                        self.content.extend([item.content] if item.content else ())
                        self.reasoning.extend([item.reasoning_content] if item.reasoning_content else ())
                        yield self._chunk(delta)
                item = await anext(self.upstream, None)
            status = STATUS_OK
            yield self._chunk(ChunkDelta(), finish or "stop")
            stream_options = self.plan.request.stream_options
            if stream_options is not None and stream_options.include_usage:
                yield self._chunk(ChunkDelta(), usage=self._counted())
        except ProviderError as failure:
            status, error = STATUS_ERROR, failure
            raise
        finally:
            await self._finish(status, error)

    async def _finish(self, status: str, error: ProviderError | None) -> None:
        with contextlib.suppress(Exception):
            await self.upstream.aclose()  # type: ignore[attr-defined]
        self.chat.record(
            self.plan,
            self.model,
            self.caller,
            self.started,
            usage=self._counted(),
            status=status,
            error=error,
            ttft=self.ttft,
        )
        answer = "".join(self.content)
        if status == STATUS_OK:
            await self.chat.remember(self.plan, answer)
        elif answer:
            self.chat.in_background(self.chat.remember(self.plan, answer, cut_off=True))


def observe_call(
    provider: str, model: str, status: str, prompt: int, completion: int, latency: float, ttft: float | None
) -> None:
    """The Prometheus side of one upstream call."""
    LLM_CALLS.labels(provider, model, status).inc()
    LLM_TOKENS.labels(provider, model, "prompt").inc(prompt)
    LLM_TOKENS.labels(provider, model, "completion").inc(completion)
    LLM_LATENCY.labels(provider, model).observe(latency)
    if ttft is not None:
        LLM_TTFT.labels(provider, model).observe(ttft)


def new_completion_id() -> str:
    """An id in OpenAI's form."""
    return "chatcmpl-" + secrets.token_hex(12)


def _text(content: Any) -> str:
    if isinstance(content, list):  # multimodal parts: keep the text
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def _local_count(answer: Completion) -> int:
    return count_text((answer.reasoning_content or "") + (answer.content or ""))


def _completion(model_id: str, answer: Completion, usage: Usage) -> ChatCompletion:
    message = AnswerMessage(
        role="assistant",
        content=answer.content,
        reasoning_content=answer.reasoning_content,
        tool_calls=answer.tool_calls,
    )
    return ChatCompletion(
        id=new_completion_id(),
        object="chat.completion",
        created=int(time.time()),
        model=model_id,
        choices=[Choice(index=0, message=message, finish_reason=answer.finish_reason or "stop")],
        usage=UsageOut(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens),
    )


def _failed(failures: list[ProviderError]) -> LLMServiceError:
    """One 50001 naming what each model of the chain answered."""
    return LLMServiceError("LLM服务调用失败: " + "; ".join(failure.message for failure in failures))
