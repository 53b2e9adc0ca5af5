"""The gateway routes: `/chat/completions` and `/models`, in the document's form and under `/v1` in OpenAI's."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import msgspec
from litestar import Request, Response, get, post
from litestar.response import Stream
from msgspec import Struct

from dtbot.errors import DtbotError
from dtbot.server.envelope import Envelope, OpenAIError, error_detail, ok
from dtbot.server.requestid import request_id_of
from dtbot.services.chat import Caller
from dtbot.services.chat_types import ChatCompletion, ChatCompletionChunk, ChatCompletionRequest
from dtbot.services.models import ModelInfo
from dtbot.services.runtime import Runtime

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
DONE = b"data: [DONE]\n\n"
_encode = msgspec.json.Encoder().encode


async def server_sent_events(chunks: AsyncIterator[ChatCompletionChunk]) -> AsyncIterator[bytes]:
    """`data: {chunk}` per chunk and `data: [DONE]`; a failure mid-stream is one `data: {"error": …}` event."""
    async with contextlib.aclosing(chunks):  # a client hanging up closes the upstream stream too
        try:
            async for chunk in chunks:
                yield b"data: " + _encode(chunk) + b"\n\n"
        except DtbotError as error:
            yield b"data: " + _encode(OpenAIError(error_detail(error))) + b"\n\n"
            return
    yield DONE


class ModelList(Struct):
    models: list[ModelInfo]


class OpenAIModel(Struct):
    id: str
    object: str
    created: int
    owned_by: str


class OpenAIModelList(Struct):
    object: str
    data: list[OpenAIModel]


@post("/chat/completions", status_code=200, summary="OpenAI-compatible chat completion", tags=["chat"])
async def chat_completions(
    request: Request, runtime: Runtime, data: ChatCompletionRequest
) -> Response[ChatCompletion] | Stream:
    """The answer in OpenAI's shape, or with `stream: true` as server-sent events ending in `data: [DONE]`."""
    caller = Caller(principal=request.user, request_id=request_id_of(request.scope))
    if data.stream:
        chunks = await runtime.chat.stream(data, caller)
        return Stream(server_sent_events(chunks), media_type="text/event-stream", headers=SSE_HEADERS)
    return Response(await runtime.chat.complete(data, caller))


@get("/models", summary="The model catalog with prices and availability", tags=["chat"])
async def models(runtime: Runtime) -> Envelope[ModelList]:
    return ok(ModelList(runtime.models.list()))


@get("/models", summary="The model catalog as OpenAI's model list", tags=["openai"])
async def openai_models(runtime: Runtime) -> OpenAIModelList:
    listing = [
        OpenAIModel(id=model.id, object="model", created=runtime.models.created, owned_by=model.provider)
        for model in runtime.models.list()
        if model.available
    ]
    return OpenAIModelList(object="list", data=listing)
