"""The wire formats the fake LLM speaks: OpenAI's, Zhipu's and DashScope's variants of it, Anthropic's.

Each dialect checks a request as the real API would (keys, required fields,
ranges), and shapes answers, streams and errors the way that API does.
A stream is three lists of frames, head, answer and tail, so that the server
can cut, break or interrupt it after N answer frames.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from tests.fakes.script import Answer, Behaviour, split_evenly

CREATED = 1_700_000_000
DONE = "[DONE]"
Frame = tuple[str | None, Any]  # (SSE event name, JSON payload or DONE)
Refusal = tuple[int, dict[str, Any]]  # (HTTP status, error body)


class OpenAIDialect:
    """OpenAI's chat completions: usage at the end of a stream only when `stream_options.include_usage`."""

    kind: ClassVar[str] = "openai"
    base: ClassVar[str] = "/openai/v1"
    path: ClassVar[str] = "/chat/completions"
    error_event: ClassVar[str | None] = None  # the SSE event name of an error inside a stream
    # status → (type, code) of OpenAI's error bodies
    errors: ClassVar[dict[int, tuple[str, str | None]]] = {
        400: ("invalid_request_error", None),
        401: ("invalid_request_error", "invalid_api_key"),
        429: ("requests", "rate_limit_exceeded"),
        500: ("server_error", None),
        503: ("server_error", "service_unavailable"),
    }

    def check(self, headers: dict[str, str], body: Any) -> Refusal | None:
        """The refusal the real API gives this request, or None."""
        if not headers.get("authorization", "").startswith("Bearer ") or len(headers["authorization"]) < 8:
            return 401, self.error_body(401, None, "You didn't provide an API key.")
        if not isinstance(body, dict) or not body.get("model") or not body.get("messages"):
            return 400, self.error_body(400, None, "'model' and 'messages' are required properties")
        return None

    def error_body(self, status: int, code: str | None, message: str, toplevel: bool = False) -> dict[str, Any]:
        """The body of an HTTP error."""
        kind, default = self.errors.get(status, ("server_error" if status >= 500 else "invalid_request_error", None))
        return {"error": {"message": message, "type": kind, "param": None, "code": code or default}}

    def inband_error(self, code: str | None) -> dict[str, Any]:
        """The error object sent inside a 200 body or stream."""
        message = "The server had an error while processing your request. Sorry about that!"
        return {"error": {"message": message, "type": "server_error", "param": None, "code": code}}

    def completion(self, answer: Answer, behaviour: Behaviour) -> dict[str, Any]:
        """A non-stream answer."""
        message: dict[str, Any] = {"role": "assistant", "content": None if answer.tool_call else answer.text}
        if answer.reasoning:
            message["reasoning_content"] = answer.reasoning
        if answer.tool_call:
            message["tool_calls"] = [self._call(answer, answer.tool_call[1], first=True)]
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": self._finish(answer)}
        body = {"id": "chatcmpl-fake", "object": "chat.completion", "created": CREATED, "model": answer.model}
        body["choices"] = [choice]
        if not behaviour.no_usage:
            body["usage"] = self._usage(answer)
        return body

    def stream(self, answer: Answer, body: dict[str, Any], behaviour: Behaviour) -> tuple[list[Frame], ...]:
        """Head, answer and tail frames of a stream."""
        head = [self._chunk(answer, {"role": "assistant", "content": ""})]
        frames: list[Frame] = []
        if answer.reasoning:
            frames += [self._chunk(answer, {"reasoning_content": part}) for part in split_evenly(answer.reasoning, 2)]
        if answer.tool_call:
            frames.append(self._chunk(answer, {"tool_calls": [self._call(answer, "", first=True)]}))
            for part in split_evenly(answer.tool_call[1], 2):
                frames.append(self._chunk(answer, {"tool_calls": [self._call(answer, part, first=False)]}))
        else:
            frames += [self._chunk(answer, {"content": part}) for part in answer.chunks]
        return head, frames, self._tail(answer, body, behaviour)

    def _tail(self, answer: Answer, body: dict[str, Any], behaviour: Behaviour) -> list[Frame]:
        tail = [self._chunk(answer, {}, finish=self._finish(answer))]
        if (body.get("stream_options") or {}).get("include_usage") and not behaviour.no_usage:
            tail.append(self._chunk(answer, None, usage=self._usage(answer)))
        return [*tail, (None, DONE)]

    def _chunk(
        self, answer: Answer, delta: dict[str, Any] | None, finish: str | None = None, usage: Any = None
    ) -> Frame:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": CREATED, "model": answer.model}
        chunk["choices"] = choices
        if usage is not None:
            chunk["usage"] = usage
        return None, chunk

    @staticmethod
    def _call(answer: Answer, arguments: str, *, first: bool) -> dict[str, Any]:
        assert answer.tool_call
        if not first:
            return {"index": 0, "function": {"arguments": arguments}}
        function = {"name": answer.tool_call[0], "arguments": arguments}
        return {"index": 0, "id": "call_fake0", "type": "function", "function": function}

    @staticmethod
    def _finish(answer: Answer) -> str:
        return "tool_calls" if answer.tool_call else "length" if answer.truncated else "stop"

    @staticmethod
    def _usage(answer: Answer) -> dict[str, int]:
        total = answer.prompt_tokens + answer.completion_tokens
        return {
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
            "total_tokens": total,
        }


class ZhipuDialect(OpenAIDialect):
    """GLM: role on every chunk, usage on the last chunk unasked, string codes, (0, 1) ranges."""

    kind = "zhipu"
    base = "/zhipu/api/paas/v4"
    codes: ClassVar[dict[int, str]] = {400: "1214", 401: "1000", 404: "1211", 429: "1302", 500: "500"}

    def check(self, headers: dict[str, str], body: Any) -> Refusal | None:
        """OpenAI's checks, and temperature and top_p strictly between 0 and 1."""
        refusal = super().check(headers, body)
        if refusal is None:
            for name in ("temperature", "top_p"):
                value = body.get(name)
                if value is not None and not 0 < value < 1:
                    return 400, self.error_body(400, "1214", f"{name}参数非法，取值范围为(0, 1)")
        return refusal

    def error_body(self, status: int, code: str | None, message: str, toplevel: bool = False) -> dict[str, Any]:
        """Zhipu's `{"error": {"code", "message"}}`."""
        code = code or self.codes.get(status, "500" if status >= 500 else "1214")
        return {"error": {"code": code, "message": message}}

    def inband_error(self, code: str | None) -> dict[str, Any]:
        """The content filter stopping an answer."""
        return {"error": {"code": code or "1301", "message": "系统检测到输入或生成内容可能包含不安全或敏感内容"}}

    def _chunk(
        self, answer: Answer, delta: dict[str, Any] | None, finish: str | None = None, usage: Any = None
    ) -> Frame:
        if delta is not None:
            delta = {"role": "assistant", **delta}
        return super()._chunk(answer, delta, finish, usage)

    def _tail(self, answer: Answer, body: dict[str, Any], behaviour: Behaviour) -> list[Frame]:
        usage = None if behaviour.no_usage else self._usage(answer)
        return [self._chunk(answer, {"content": ""}, finish=self._finish(answer), usage=usage), (None, DONE)]


class DashScopeDialect(OpenAIDialect):
    """Qwen's compatible mode: `usage: null` on every chunk, then a usage chunk with no choices when asked."""

    kind = "dashscope"
    base = "/dashscope/compatible-mode/v1"
    codes: ClassVar[dict[int, str]] = {
        400: "invalid_parameter_error",
        401: "invalid_api_key",
        404: "model_not_found",
        429: "Throttling.RateQuota",
        500: "InternalError",
    }

    def error_body(self, status: int, code: str | None, message: str, toplevel: bool = False) -> dict[str, Any]:
        """`{"error": {"code", "message", "type"}}`, or the native `{"code", "message", "request_id"}`."""
        code = code or self.codes.get(status, "InternalError" if status >= 500 else "InvalidParameter")
        if toplevel:
            return {"code": code, "message": message, "request_id": "fake-request-id"}
        return {"error": {"code": code, "message": message, "type": code}}

    def inband_error(self, code: str | None) -> dict[str, Any]:
        """The content inspection stopping an answer."""
        code = code or "data_inspection_failed"
        return {"error": {"code": code, "message": "Output data may contain inappropriate content.", "type": code}}

    def _chunk(
        self, answer: Answer, delta: dict[str, Any] | None, finish: str | None = None, usage: Any = None
    ) -> Frame:
        _, chunk = super()._chunk(answer, delta, finish, usage)
        chunk.setdefault("usage", None)
        return None, chunk


class AnthropicDialect:
    """Anthropic's Messages API: `x-api-key`, strict turns, named events."""

    kind: ClassVar[str] = "anthropic"
    base: ClassVar[str] = "/anthropic"
    path: ClassVar[str] = "/v1/messages"
    error_event: ClassVar[str | None] = "error"
    errors: ClassVar[dict[int, str]] = {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        429: "rate_limit_error",
        500: "api_error",
        529: "overloaded_error",
    }

    def check(self, headers: dict[str, str], body: Any) -> Refusal | None:
        """The refusals of the real API for what an adapter may get wrong."""
        if not headers.get("x-api-key"):
            return 401, self.error_body(401, None, "x-api-key header is required")
        if not headers.get("anthropic-version"):
            return 400, self.error_body(400, None, "anthropic-version: header is required")
        problem = self._problem(body)
        return (400, self.error_body(400, None, problem)) if problem else None

    @staticmethod
    def _problem(body: Any) -> str | None:
        if not isinstance(body, dict) or not body.get("model"):
            return "model: Field required"
        if not isinstance(body.get("max_tokens"), int):
            return "max_tokens: Field required"
        if not 0 <= body.get("temperature", 0) <= 1:
            return "temperature: Input should be less than or equal to 1"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "messages: Field required"
        for i, message in enumerate(messages):
            if message.get("role") not in ("user", "assistant"):
                return f'messages.{i}.role: Input should be "user" or "assistant"'
            if i and message["role"] == messages[i - 1]["role"]:
                return "messages: roles must alternate between 'user' and 'assistant'"
        if messages[0]["role"] != "user":
            return "messages: first message must use the 'user' role"
        return None

    def error_body(self, status: int, code: str | None, message: str, toplevel: bool = False) -> dict[str, Any]:
        """`{"type": "error", "error": {"type", "message"}}`."""
        kind = code or self.errors.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}

    def inband_error(self, code: str | None) -> dict[str, Any]:
        """The `error` event of an overloaded stream."""
        return self.error_body(529, code, "Overloaded")

    def completion(self, answer: Answer, behaviour: Behaviour) -> dict[str, Any]:
        """A non-stream message."""
        content: list[dict[str, Any]] = []
        if answer.reasoning:
            content.append({"type": "thinking", "thinking": answer.reasoning, "signature": "fake-signature"})
        if answer.tool_call:
            content.append(self._tool_block(answer) | {"input": json.loads(answer.tool_call[1])})
        else:
            content.append({"type": "text", "text": answer.text})
        message = self._message(answer)
        message.update(content=content, stop_reason=self._stop(answer))
        message["usage"] = {"input_tokens": answer.prompt_tokens, "output_tokens": answer.completion_tokens}
        return message

    def stream(self, answer: Answer, body: dict[str, Any], behaviour: Behaviour) -> tuple[list[Frame], ...]:
        """message_start and ping, the content blocks, then message_delta and message_stop."""
        start = self._message(answer) | {"content": [], "stop_reason": None}
        start["usage"] = {"input_tokens": answer.prompt_tokens, "output_tokens": 1}
        head: list[Frame] = [_event("message_start", message=start), _event("ping")]
        frames: list[Frame] = []
        index = 0
        if answer.reasoning:
            frames += self._block(
                index, {"type": "thinking", "thinking": ""}, "thinking_delta", "thinking", answer.reasoning
            )
            index += 1
        if answer.tool_call:
            block = self._tool_block(answer) | {"input": {}}
            frames += self._block(index, block, "input_json_delta", "partial_json", answer.tool_call[1])
        else:
            frames += self._block(index, {"type": "text", "text": ""}, "text_delta", "text", answer.text, answer.chunks)
        delta = {"stop_reason": self._stop(answer), "stop_sequence": None}
        tail = [
            _event("message_delta", delta=delta, usage={"output_tokens": answer.completion_tokens}),
            _event("message_stop"),
        ]
        return head, frames, tail

    @staticmethod
    def _block(
        index: int, start: dict[str, Any], kind: str, field: str, text: str, parts: list[str] | None = None
    ) -> list[Frame]:
        deltas = [
            _event("content_block_delta", index=index, delta={"type": kind, field: part})
            for part in parts or split_evenly(text, 2)
        ]
        return [
            _event("content_block_start", index=index, content_block=start),
            *deltas,
            _event("content_block_stop", index=index),
        ]

    @staticmethod
    def _message(answer: Answer) -> dict[str, Any]:
        return {"id": "msg_fake", "type": "message", "role": "assistant", "model": answer.model, "stop_sequence": None}

    @staticmethod
    def _tool_block(answer: Answer) -> dict[str, Any]:
        assert answer.tool_call
        return {"type": "tool_use", "id": "toolu_fake0", "name": answer.tool_call[0]}

    @staticmethod
    def _stop(answer: Answer) -> str:
        return "tool_use" if answer.tool_call else "max_tokens" if answer.truncated else "end_turn"


def _event(kind: str, **fields: Any) -> Frame:
    return kind, {"type": kind, **fields}


Dialect = OpenAIDialect | AnthropicDialect
DIALECTS: dict[str, Dialect] = {
    d.kind: d for d in (OpenAIDialect(), ZhipuDialect(), DashScopeDialect(), AnthropicDialect())
}
