"""The fake DingTalk itself, in the mode a `dtbot serve` subprocess needs: its own thread, blocking callers."""

from __future__ import annotations

import asyncio

import httpx

from dtbot.dingtalk.messages import IncomingMessage
from dtbot.dingtalk.stream import StreamReceiver
from tests.fakes.dingtalk import FakeDingTalk, signed_callback_headers


def test_the_fake_serves_from_a_thread_to_blocking_clients() -> None:
    with FakeDingTalk.in_thread(token_expire_in=60) as fake:
        with httpx.Client(base_url=fake.url) as http:
            answer = http.post("/robot/sendBySession", params={"session": "t1"}, json={"msgtype": "text", "text": {}})
            assert answer.json() == {"errcode": 0, "errmsg": "ok"}
            token = http.post("/v1.0/oauth2/accessToken", json={"appKey": fake.app_key, "appSecret": fake.app_secret})
            assert token.json()["expireIn"] == 60
            opened = http.post(
                "/v1.0/gateway/connections/open", json={"clientId": fake.app_key, "clientSecret": fake.app_secret}
            ).json()
            assert opened["endpoint"] == f"ws://127.0.0.1:{fake.port}/connect" and opened["ticket"]
            assert [r["kind"] for r in http.get("/_fake/requests").json()] == ["session", "token", "open"]
        assert fake.session_messages("t1") == [{"msgtype": "text", "text": {}}]
        assert fake.session_messages("t2") == []
        fake.blocking(fake.wait_for(lambda: len(fake.tokens) == 1))  # a coroutine run in the fake's loop


def test_callback_helpers_make_what_dingtalk_sends() -> None:
    headers = signed_callback_headers("SECtest", 1_700_000_000_000)
    assert headers == {"timestamp": "1700000000000", "sign": "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g="}
    fake = FakeDingTalk(port=1234)
    payload = fake.callback_payload("问题", group=True, sender="s9", msg_id="m1", expires_ms=5)
    assert payload["text"] == {"content": " 问题"} and payload["isInAtList"] is True and payload["atUsers"]
    assert payload["sessionWebhook"] == "http://127.0.0.1:1234/robot/sendBySession?session=sess-m1"
    assert payload["sessionWebhookExpiredTime"] == 5 and payload["senderStaffId"] == "s9"
    single = fake.callback_payload("问题", at_bot=False)
    assert single["text"] == {"content": "问题"} and single["conversationType"] == "1" and not single["atUsers"]


def test_stream_messages_can_be_pushed_from_another_thread() -> None:
    with FakeDingTalk.in_thread() as fake:
        received: list[IncomingMessage] = []

        async def on_message(message: IncomingMessage) -> None:
            received.append(message)

        async def main() -> str:
            receiver = StreamReceiver(fake.api_base, fake.app_key, fake.app_secret, on_message, backoff=0.05)
            task = asyncio.create_task(receiver.run())
            while not fake.stream_connected():
                await asyncio.sleep(0.01)
            payload = fake.callback_payload("来自另一个线程")
            message_id = await asyncio.to_thread(fake.push_bot_message_threadsafe, payload)
            while message_id not in fake.stream_acks:
                await asyncio.sleep(0.01)
            await receiver.stop()
            await task
            return message_id

        message_id = asyncio.run(asyncio.wait_for(main(), 10))
        assert fake.stream_acks[message_id]["code"] == 200
        assert [m.text() for m in received] == ["来自另一个线程"]
