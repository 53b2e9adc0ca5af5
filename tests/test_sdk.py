"""The Python SDK (`dtbot.sdk`, also `dingtalk_bot_sdk`) against a running server, as the API document uses it."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from typing import ClassVar

import pytest

from dtbot.sdk import (
    AsyncDingTalkBotClient,
    AuthenticationError,
    BadRequestError,
    DingTalkBotClient,
    NotFoundError,
    RateLimitError,
)
from tests.support.servers import Server


@pytest.fixture
def client(gateway: Server) -> Iterator[DingTalkBotClient]:
    with DingTalkBotClient(base_url=gateway.base, api_key=gateway.admin_key) as made:
        yield made


def test_the_documents_import_name_and_example(gateway: Server) -> None:
    from dingtalk_bot_sdk import DingTalkBotClient as Documented

    client = Documented(base_url=gateway.base, api_key=gateway.admin_key)
    response = client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "你好"}])
    assert response.choices[0].message.content == "Echo: 你好"
    stream = client.chat.completions.create(
        model="gpt-4", messages=[{"role": "user", "content": "写一篇关于AI的文章"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Echo: 写一篇关于AI的文章"
    conversation = client.conversations.create(userId="user_123", title="新的对话", model="gpt-4")
    assert conversation.conversationId.startswith("conv_")


def test_conversations_models_config_stats_health(client: DingTalkBotClient) -> None:
    conversation = client.conversations.create(title="SDK 会话", model="glm-4", systemPrompt="简短回答")
    answer = client.chat.completions.create(
        conversationId=conversation.conversationId, messages=[{"role": "user", "content": "一"}]
    )
    assert answer.model == "glm-4"
    page = client.conversations.messages(conversation.conversationId)
    assert [m.content for m in page.messages] == ["一", "Echo: 一"] and page.totalTokens > 0
    listed = client.conversations.list(search="SDK")
    assert conversation.conversationId in [c.conversationId for c in listed.conversations]
    assert client.conversations.get(conversation.conversationId).messageCount == 2
    client.conversations.delete(conversation.conversationId)
    with pytest.raises(NotFoundError) as missing:
        client.conversations.get(conversation.conversationId)
    assert missing.value.code == 40401 and missing.value.request_id
    assert "glm-4" in [m.id for m in client.models.list().models]
    assert client.config.update(maxTokensPerRequest=3000).maxTokensPerRequest == 3000
    assert client.config.get().maxTokensPerRequest == 3000
    client.config.update(maxTokensPerRequest=4000)
    deadline = time.monotonic() + 5  # usage records are written in batches, every half second
    while client.stats().totalMessages < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.stats().totalMessages >= 1
    assert client.health().services.database == "healthy"


def test_errors_are_typed_with_code_status_and_request_id(gateway: Server, client: DingTalkBotClient) -> None:
    with pytest.raises(BadRequestError) as unknown:
        client.chat.completions.create(model="gpt-99", messages=[{"role": "user", "content": "x"}])
    assert (unknown.value.code, unknown.value.status) == (40004, 400)
    assert unknown.value.request_id and "模型不支持" in str(unknown.value)
    with pytest.raises(AuthenticationError) as wrong:
        DingTalkBotClient(base_url=gateway.base, api_key="nope").stats()
    assert wrong.value.code == 40001
    with pytest.raises(BadRequestError) as refused:
        client.dingtalk.send(sessionWebhook="http://127.0.0.1:9/x", msgtype="text", text={"content": "x"})
    assert refused.value.code == 40003
    with pytest.raises(BadRequestError):
        list(client.chat.completions.create(model="gpt-99", messages=[{"role": "user", "content": "x"}], stream=True))


async def test_the_async_twin(gateway: Server) -> None:
    async with AsyncDingTalkBotClient(base_url=gateway.base, api_key=gateway.admin_key) as client:
        answer = await client.chat.completions.create(
            model="qwen-turbo", messages=[{"role": "user", "content": "异步"}]
        )
        assert answer.choices[0].message.content == "Echo: 异步"
        stream = client.chat.completions.create(
            model="claude-3-sonnet", messages=[{"role": "user", "content": "流"}], stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text == "Echo: 流"
        assert (await client.health()).status == "healthy"
        with pytest.raises(BadRequestError):
            await client.conversations.create(model="gpt-99")


class _Flaky(http.server.BaseHTTPRequestHandler):
    """Answers 429 with Retry-After: 1 to the first request, then the envelope."""

    calls: ClassVar[list[float]] = []

    def do_GET(self) -> None:
        self.calls.append(time.monotonic())
        first = len(self.calls) == 1
        limited = b'{"code":42901,"message":"slow down","data":null}'
        body = limited if first else b'{"code":200,"message":"success","data":{"totalMessages":7}}'
        self.send_response(429 if first else 200)
        self.send_header("Content-Type", "application/json")
        if first:
            self.send_header("Retry-After", "1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


def test_429_is_retried_after_retry_after_then_raised_when_retries_run_out() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/api"
    try:
        assert DingTalkBotClient(base_url=base, api_key="k").stats().totalMessages == 7
        assert _Flaky.calls[1] - _Flaky.calls[0] >= 0.9  # it waited as told
        _Flaky.calls.clear()
        with pytest.raises(RateLimitError) as limited:
            DingTalkBotClient(base_url=base, api_key="k", max_retries=0).stats()
        assert limited.value.retry_after == 1 and limited.value.code == 42901
    finally:
        server.shutdown()
