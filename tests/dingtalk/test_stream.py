"""Stream mode end to end: open a connection at the fake gateway, receive, ACK, answer pings, reconnect."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from dtbot.dingtalk.messages import IncomingMessage
from dtbot.dingtalk.stream import BOT_TOPIC, StreamReceiver
from dtbot.errors import InvalidParameter
from tests.fakes.dingtalk import FakeDingTalk

Handler = Callable[[IncomingMessage], Awaitable[None]]


@asynccontextmanager
async def receiving(
    fake: FakeDingTalk, handler: Handler, *, app_secret: str | None = None
) -> AsyncIterator[StreamReceiver]:
    """A receiver running against the fake for the block, stopped afterwards."""
    receiver = StreamReceiver(
        fake.api_base, fake.app_key, app_secret or fake.app_secret, handler, backoff=0.05, max_backoff=0.2
    )
    task = asyncio.create_task(receiver.run())
    try:
        yield receiver
    finally:
        await receiver.stop()
        await asyncio.wait_for(task, 5)  # run() returns by itself once stopped


@pytest.fixture
def received() -> list[IncomingMessage]:
    return []


@pytest.fixture
def handler(received: list[IncomingMessage]) -> Handler:
    async def on_message(message: IncomingMessage) -> None:
        received.append(message)

    return on_message


async def test_a_pushed_message_reaches_the_handler_and_is_acked(
    fake: FakeDingTalk, handler: Handler, received: list[IncomingMessage]
) -> None:
    async with receiving(fake, handler):
        await fake.wait_for(lambda: fake.stream_connections == 1)
        [opened] = fake.stream_opens
        assert opened["clientId"] == fake.app_key and opened["clientSecret"] == fake.app_secret
        assert opened["subscriptions"] == [{"type": "CALLBACK", "topic": BOT_TOPIC}]
        assert opened["ua"].startswith("dtbot") and "localIp" in opened

        payload = fake.callback_payload("流式消息", group=True)
        message_id = await fake.push_bot_message(payload)
        await fake.wait_for(lambda: len(fake.stream_acks) == 1)
    [message] = received
    assert message.msg_id == payload["msgId"] and message.text() == " 流式消息" and message.is_group
    assert message.session_webhook == payload["sessionWebhook"]
    assert fake.stream_acks == {
        message_id: {
            "code": 200,
            "headers": {"contentType": "application/json", "messageId": message_id},
            "message": "OK",
            "data": json.dumps({"response": None}),
        }
    }


async def test_the_ack_waits_for_the_handler(fake: FakeDingTalk) -> None:
    release = asyncio.Event()

    async def slow(message: IncomingMessage) -> None:
        await release.wait()

    async with receiving(fake, slow):
        await fake.push_bot_message(fake.callback_payload("慢"))
        await asyncio.sleep(0.2)
        assert fake.stream_acks == {}
        release.set()
        await fake.wait_for(lambda: len(fake.stream_acks) == 1)


async def test_pings_are_answered_with_their_own_data(fake: FakeDingTalk, handler: Handler) -> None:
    async with receiving(fake, handler):
        ping_id = await fake.ping()
        await fake.wait_for(lambda: len(fake.stream_pongs) == 1)
    pong = fake.stream_pongs[ping_id]
    assert pong["code"] == 200 and pong["headers"]["messageId"] == ping_id
    assert json.loads(pong["data"]) == {"opaque": ping_id}


async def test_it_reconnects_with_a_new_ticket_after_the_connection_drops(
    fake: FakeDingTalk, handler: Handler, received: list[IncomingMessage]
) -> None:
    async with receiving(fake, handler) as receiver:
        await fake.push_bot_message(fake.callback_payload("第一条"))
        await fake.wait_for(lambda: len(fake.stream_acks) == 1)
        await fake.drop_stream()
        await fake.wait_for(lambda: fake.stream_connections == 2)
        await fake.push_bot_message(fake.callback_payload("第二条"))
        await fake.wait_for(lambda: len(fake.stream_acks) == 2)
        assert receiver.connections == 2
    assert [m.text() for m in received] == ["第一条", "第二条"]
    assert len(fake.stream_opens) == 2  # a ticket serves once: each connection opened anew


async def test_it_reconnects_when_dingtalk_says_disconnect(
    fake: FakeDingTalk, handler: Handler, received: list[IncomingMessage]
) -> None:
    async with receiving(fake, handler):
        await fake.wait_for(lambda: fake.stream_connections == 1)
        await fake.disconnect()
        await fake.wait_for(lambda: fake.stream_connections == 2)
        await fake.push_bot_message(fake.callback_payload("重连后"))
        await fake.wait_for(lambda: len(received) == 1)


async def test_it_keeps_trying_while_the_gateway_fails(fake: FakeDingTalk, handler: Handler) -> None:
    fake.fail("open", status=503, times=3)
    async with receiving(fake, handler):
        await fake.wait_for(lambda: fake.stream_connections == 1)
    assert len([r for r in fake.requests if r.kind == "open"]) == 4


async def test_wrong_credentials_retry_with_backoff_until_stopped(
    fake: FakeDingTalk, handler: Handler, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dtbot")
    async with receiving(fake, handler, app_secret="wrong-secret-4d5e6f"):
        await fake.wait_for(lambda: len([r for r in fake.requests if r.kind == "open"]) >= 3)
    assert fake.stream_connections == 0 and fake.stream_opens == []
    assert "HTTP 401 InvalidAuthentication" in caplog.text and "wrong-secret-4d5e6f" not in caplog.text


async def test_no_log_line_shows_the_secret_or_a_ticket(
    fake: FakeDingTalk, handler: Handler, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with receiving(fake, handler):
        await fake.wait_for(lambda: fake.stream_connections == 1)
        await fake.drop_stream()
        await fake.wait_for(lambda: fake.stream_connections == 2)
    tickets = [r.query["ticket"] for r in fake.requests if r.kind == "connect"]
    assert len(tickets) == 2 and "stream connected" in caplog.text
    for secret in (fake.app_secret, *tickets):
        assert secret not in caplog.text


async def test_a_malformed_message_is_acked_as_a_bad_request(
    fake: FakeDingTalk, handler: Handler, received: list[IncomingMessage]
) -> None:
    async with receiving(fake, handler):
        payload = fake.callback_payload("x")
        del payload["msgId"]
        await fake.push_bot_message(payload)
        await fake.wait_for(lambda: len(fake.stream_acks) == 1)
    [ack] = fake.stream_acks.values()
    assert ack["code"] == 400 and "msgId" in ack["message"]
    assert received == []


async def test_handler_failures_are_acked_as_such_and_the_receiver_goes_on(fake: FakeDingTalk) -> None:
    seen: list[str] = []

    async def picky(message: IncomingMessage) -> None:
        seen.append(message.text() or "")
        if message.text() == "bad":
            raise InvalidParameter("参数格式错误: sessionWebhook: host not allowed")
        if message.text() == "boom":
            raise RuntimeError("a bug")

    async with receiving(fake, picky):
        for text in ("bad", "boom", "good"):
            await fake.push_bot_message(fake.callback_payload(text))
        await fake.wait_for(lambda: len(fake.stream_acks) == 3)
    assert sorted(seen) == ["bad", "boom", "good"]
    assert sorted(ack["code"] for ack in fake.stream_acks.values()) == [200, 400, 500]


async def test_other_topics_are_acked_as_not_implemented(fake: FakeDingTalk, handler: Handler) -> None:
    async with receiving(fake, handler):
        await fake.push_frame(
            {
                "specVersion": "1.0",
                "type": "CALLBACK",
                "headers": {"topic": "/v1.0/card/instances/callback", "messageId": "card-1"},
                "data": "{}",
            }
        )
        await fake.push_frame({"not": "a frame"})  # ignored, the connection stays
        await fake.ping()
        await fake.wait_for(lambda: len(fake.stream_pongs) == 1)
    [card_ack] = [frame for frame in fake.stream_received if frame["headers"]["messageId"] == "card-1"]
    assert card_ack["code"] == 404 and fake.stream_connections == 1


async def test_cancelling_run_ends_it(fake: FakeDingTalk, handler: Handler) -> None:
    receiver = StreamReceiver(fake.api_base, fake.app_key, fake.app_secret, handler, backoff=0.05)
    task = asyncio.create_task(receiver.run())
    await fake.wait_for(lambda: fake.stream_connections == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await fake.wait_for(lambda: not fake.stream_connected())  # the connection was closed
