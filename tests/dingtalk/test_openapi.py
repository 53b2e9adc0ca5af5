"""The OpenAPI: the access token's cache and renewal, and the robot's sends to users and groups."""

from __future__ import annotations

import asyncio
import json

import pytest

from dtbot.dingtalk.client import DingTalkClient, DingTalkError
from dtbot.dingtalk.messages import markdown_message, text_message
from tests.fakes.dingtalk import FakeDingTalk

from .conftest import MakeClient


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


async def test_batch_send_posts_the_template_with_the_token(fake: FakeDingTalk, client: DingTalkClient) -> None:
    key = await client.send_to_users("dingrobot", ["u1", "u2"], markdown_message("标题", "**正文**", ["u1"]))
    assert key.startswith("pqk-")
    [body] = fake.batch_sends
    assert body == {
        "robotCode": "dingrobot",
        "userIds": ["u1", "u2"],
        "msgKey": "sampleMarkdown",
        "msgParam": json.dumps({"title": "标题", "text": "**正文**"}, ensure_ascii=False, separators=(",", ":")),
    }
    send = next(r for r in fake.requests if r.kind == "batchSend")
    assert send.headers["x-acs-dingtalk-access-token"] == fake.tokens[0]
    token_request = next(r for r in fake.requests if r.kind == "token")
    assert token_request.body == {"appKey": fake.app_key, "appSecret": fake.app_secret}


async def test_group_send_posts_the_template_to_the_conversation(fake: FakeDingTalk, client: DingTalkClient) -> None:
    key = await client.send_to_group("dingrobot", "cidABC==", text_message("大家好", ["u1"]))
    assert key.startswith("pqk-")
    [body] = fake.group_sends
    assert fake.openapi_messages() == [{"path": "/v1.0/robot/groupMessages/send", "body": body}]
    assert body["robotCode"] == "dingrobot" and body["openConversationId"] == "cidABC=="
    assert body["msgKey"] == "sampleText" and json.loads(body["msgParam"]) == {"content": "大家好"}


async def test_one_token_serves_many_sends_even_concurrent_ones(fake: FakeDingTalk, client: DingTalkClient) -> None:
    await asyncio.gather(*(client.send_to_group("r", f"cid{i}", text_message("hi")) for i in range(8)))
    await client.send_to_users("r", ["u1"], text_message("hi"))
    assert len(fake.tokens) == 1 and len(fake.group_sends) == 8 and len(fake.batch_sends) == 1


async def test_the_token_is_renewed_shortly_before_it_expires(fake: FakeDingTalk, make_client: MakeClient) -> None:
    clock = Clock()
    client = make_client(clock=clock)
    first = await client.access_token()
    clock.now += 7200 - 301  # still five minutes and a second to go
    assert await client.access_token() == first
    clock.now += 2
    second = await client.access_token()
    assert second != first and fake.tokens == [first, second]
    await client.send_to_users("r", ["u1"], text_message("hi"))
    assert fake.requests[-1].headers["x-acs-dingtalk-access-token"] == second


async def test_a_short_lived_token_is_renewed_at_half_its_life(fake: FakeDingTalk, make_client: MakeClient) -> None:
    fake.token_expire_in = 120
    clock = Clock()
    client = make_client(clock=clock)
    first = await client.access_token()
    clock.now += 59
    assert await client.access_token() == first
    clock.now += 2
    assert await client.access_token() != first


async def test_an_invalidated_token_is_replaced_and_the_send_retried_once(
    fake: FakeDingTalk, client: DingTalkClient
) -> None:
    await client.send_to_users("r", ["u1"], text_message("first"))
    fake.expire_tokens()  # DingTalk revoked it before our cache says it expires
    await client.send_to_users("r", ["u1"], text_message("second"))
    assert len(fake.tokens) == 2
    assert [json.loads(b["msgParam"])["content"] for b in fake.batch_sends] == ["first", "second"]
    sends = [r for r in fake.requests if r.kind == "batchSend"]
    assert [r.headers["x-acs-dingtalk-access-token"] for r in sends] == [fake.tokens[0], fake.tokens[0], fake.tokens[1]]


async def test_a_token_refused_twice_is_reported(fake: FakeDingTalk, client: DingTalkClient) -> None:
    fake.fail("groupSend", status=401, code="InvalidAuthentication", message="不合法的access_token")
    with pytest.raises(DingTalkError) as caught:
        await client.send_to_group("r", "cid", text_message("hi"))
    assert caught.value.token_invalid and caught.value.errcode == "InvalidAuthentication"
    assert len(fake.tokens) == 2 and len([r for r in fake.requests if r.kind == "groupSend"]) == 2


async def test_invalidate_token_forgets_only_the_token_it_is_given(client: DingTalkClient) -> None:
    token = await client.access_token()
    client.invalidate_token("an-older-token")
    assert await client.access_token() == token
    client.invalidate_token()
    assert await client.access_token() != token


async def test_wrong_app_credentials_are_reported_without_the_secret(
    fake: FakeDingTalk, make_client: MakeClient
) -> None:
    secret = "wrong-secret-e5f6a7b8c9d0"
    client = make_client(app_secret=secret)
    with pytest.raises(DingTalkError) as caught:
        await client.send_to_users("r", ["u1"], text_message("hi"))
    assert caught.value.upstream_status == 400 and caught.value.errcode == "invalidClientIdOrSecret"
    assert "accessToken" in caught.value.message and secret not in caught.value.message
    assert fake.batch_sends == []


async def test_missing_app_credentials_are_reported_before_any_request(
    fake: FakeDingTalk, make_client: MakeClient
) -> None:
    with pytest.raises(DingTalkError, match="not configured"):
        await make_client(app_key="", app_secret="").send_to_users("r", ["u1"], text_message("hi"))
    assert fake.requests == []


@pytest.mark.parametrize(
    ("fault", "throttled", "transient", "requests"),
    [
        ({"status": 429, "code": "Throttling.Api"}, True, True, 1),
        ({"status": 403, "code": "Forbidden.AccessDenied.QpsLimitForApi"}, True, True, 1),
        ({"status": 400, "code": "InvalidParameter.OpenConversationId"}, False, False, 1),
        ({"status": 503, "code": "ServiceUnavailable"}, False, True, 3),
    ],
)
async def test_openapi_errors_are_mapped(
    fake: FakeDingTalk,
    client: DingTalkClient,
    fault: dict[str, object],
    throttled: bool,
    transient: bool,
    requests: int,
) -> None:
    fake.fail("groupSend", message="refused by the fake", **fault)  # type: ignore[arg-type]
    with pytest.raises(DingTalkError) as caught:
        await client.send_to_group("r", "cid", text_message("hi"))
    error = caught.value
    assert (error.errcode, error.upstream_status) == (fault["code"], fault["status"])
    assert (error.throttled, error.transient) == (throttled, transient)
    assert error.errmsg == "refused by the fake" and "groupMessages/send" in error.message
    assert len([r for r in fake.requests if r.kind == "groupSend"]) == requests


async def test_server_errors_on_the_token_are_retried(fake: FakeDingTalk, client: DingTalkClient) -> None:
    fake.fail("token", status=502, times=1)
    await client.send_to_users("r", ["u1"], text_message("hi"))
    assert len([r for r in fake.requests if r.kind == "token"]) == 2 and len(fake.batch_sends) == 1


async def test_users_dingtalk_cannot_reach(fake: FakeDingTalk, client: DingTalkClient) -> None:
    fake.invalid_users.update({"gone1", "gone2"})
    await client.send_to_users("r", ["u1", "gone1"], text_message("hi"))  # some reached: fine
    with pytest.raises(DingTalkError, match="no user could be sent to"):
        await client.send_to_users("r", ["gone1", "gone2"], text_message("hi"))


async def test_no_openapi_error_shows_the_secret_or_a_token(fake: FakeDingTalk, client: DingTalkClient) -> None:
    token = await client.access_token()
    fake.fail("batchSend", status=400, code="InvalidParameter", message=f"echo {fake.app_secret} and {token}")
    with pytest.raises(DingTalkError) as caught:
        await client.send_to_users("r", ["u1"], text_message("hi"))
    text = f"{caught.value.message} {caught.value.errmsg} {caught.value!r}"
    assert fake.app_secret not in text and token not in text and "***" in text


def test_a_client_serves_one_event_loop_after_another() -> None:
    """As the CLI uses it: `asyncio.run` per command, one client."""
    with FakeDingTalk.in_thread() as fake:
        client = DingTalkClient(fake.api_base, fake.app_key, fake.app_secret, [fake.origin])

        async def send(text: str) -> None:
            try:
                await asyncio.gather(*(client.send_to_users("r", ["u1"], text_message(text)) for _ in range(2)))
            finally:
                await client.close()

        asyncio.run(send("first"))
        client.invalidate_token()
        asyncio.run(send("second"))
        assert len(fake.batch_sends) == 4 and len(fake.tokens) == 2
