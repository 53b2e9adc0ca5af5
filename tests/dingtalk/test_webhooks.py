"""Posting to webhooks: answers, retries, the allow list, redirects, and no secret in an error."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest

from dtbot.dingtalk.client import DingTalkClient, DingTalkError
from dtbot.dingtalk.messages import markdown_message, text_message
from dtbot.dingtalk.signing import signed_webhook_url
from dtbot.errors import InvalidParameter
from tests.fakes.dingtalk import FakeDingTalk
from tests.fakes.llm import free_port

from .conftest import MakeClient


async def test_a_message_reaches_the_session_webhook_as_utf8_json(fake: FakeDingTalk, client: DingTalkClient) -> None:
    message = markdown_message("回复", "**你好**，世界", ["u1"])
    await client.post_webhook(fake.session_webhook("s1"), message)
    assert fake.session_messages("s1") == [message]
    [request] = fake.requests
    assert request.headers["content-type"].startswith("application/json")
    assert "x-acs-dingtalk-access-token" not in request.headers  # a sessionWebhook needs no token
    assert request.size == len(message_bytes(message))  # Chinese as UTF-8, not \\u escapes


def message_bytes(message: dict[str, object]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


async def test_an_errcode_is_raised_with_dingtalks_code_and_not_retried(
    fake: FakeDingTalk, client: DingTalkClient
) -> None:
    fake.fail("session", "s-expired", errcode=300001, message="session expired")
    with pytest.raises(DingTalkError) as caught:
        await client.post_webhook(fake.session_webhook("s-expired"), text_message("hi"))
    error = caught.value
    assert (error.errcode, error.errmsg, error.transient) == (300001, "session expired", False)
    assert error.status == 502 and "errcode 300001" in error.message
    assert len(fake.requests) == 1
    await client.post_webhook(fake.session_webhook("s-other"), text_message("hi"))  # other sessions still work


async def test_server_errors_are_retried_until_one_succeeds(fake: FakeDingTalk, client: DingTalkClient) -> None:
    fake.fail("session", status=503, times=2)
    await client.post_webhook(fake.session_webhook("s2"), text_message("第三次成功"))
    assert len(fake.requests) == 3
    assert fake.session_messages() == [text_message("第三次成功")]


async def test_busy_errcode_is_retried(fake: FakeDingTalk, client: DingTalkClient) -> None:
    fake.fail("session", errcode=-1, message="系统繁忙", times=1)
    await client.post_webhook(fake.session_webhook("s3"), text_message("hi"))
    assert len(fake.requests) == 2 and len(fake.session_messages("s3")) == 1


async def test_persistent_server_errors_give_up_after_the_attempts(fake: FakeDingTalk, make_client: MakeClient) -> None:
    client = make_client(attempts=2)
    fake.fail("session", status=500)
    with pytest.raises(DingTalkError) as caught:
        await client.post_webhook(fake.session_webhook("s4"), text_message("hi"))
    assert caught.value.transient and caught.value.upstream_status == 500
    assert len(fake.requests) == 2


async def test_dropped_connections_are_retried(fake: FakeDingTalk, client: DingTalkClient) -> None:
    fake.fail("session", drop=True, times=1)
    await client.post_webhook(fake.session_webhook("s5"), text_message("hi"))
    assert len(fake.requests) == 2 and len(fake.session_messages("s5")) == 1


async def test_timeouts_are_retried_then_reported(fake: FakeDingTalk, make_client: MakeClient) -> None:
    client = make_client(timeout=0.2, attempts=2)
    fake.fail("session", delay=1.0, status=500, times=1)
    await client.post_webhook(fake.session_webhook("s6"), text_message("hi"))  # the second try is answered
    assert len(fake.session_messages("s6")) == 1
    fake.fail("session", delay=1.0, status=500)
    with pytest.raises(DingTalkError, match="timed out") as caught:
        await client.post_webhook(fake.session_webhook("s6"), text_message("hi"))
    assert caught.value.transient and caught.value.upstream_status is None


async def test_the_robot_rate_limit_is_reported_as_throttled_without_retrying(
    fake: FakeDingTalk, client: DingTalkClient
) -> None:
    fake.add_robot("rate-token")
    fake.robot_rate_limit = 3
    for _ in range(3):
        await client.post_webhook(fake.robot_webhook("rate-token"), text_message("hi"))
    with pytest.raises(DingTalkError) as caught:
        await client.post_webhook(fake.robot_webhook("rate-token"), text_message("hi"))
    assert caught.value.errcode == 130101 and caught.value.throttled and caught.value.transient
    assert len(fake.requests) == 4


async def test_a_body_over_the_limit_is_refused_by_dingtalk(fake: FakeDingTalk, client: DingTalkClient) -> None:
    with pytest.raises(DingTalkError) as caught:
        await client.post_webhook(fake.session_webhook("big"), text_message("字" * 7_000))
    assert caught.value.errcode == 460101


async def test_a_url_off_the_allow_list_is_refused_before_any_request(
    fake: FakeDingTalk, client: DingTalkClient
) -> None:
    other = free_port()
    for url in (
        f"http://127.0.0.1:{other}/robot/sendBySession?session=s",
        f"http://localhost:{fake.port}/robot/sendBySession?session=s",  # same server, another origin
        f"https://127.0.0.1:{fake.port}/robot/sendBySession?session=s",
        f"http://user:pw@127.0.0.1:{fake.port}/robot/sendBySession?session=s",
        "file:///etc/passwd",
        "/robot/sendBySession?session=s",
        "",
    ):
        with pytest.raises(InvalidParameter) as caught:
            await client.post_webhook(url, text_message("hi"))
        assert caught.value.message.startswith("参数格式错误: webhook: ")
    assert fake.requests == []


async def test_check_url_names_the_field_and_shows_the_origin_only(fake: FakeDingTalk, client: DingTalkClient) -> None:
    client.check_url(fake.session_webhook("ok"))
    with pytest.raises(InvalidParameter) as caught:
        client.check_url("https://evil.example.com:8443/hook?access_token=tok-secret-123", "sessionWebhook")
    assert caught.value.message == (
        "参数格式错误: sessionWebhook: host not allowed: https://evil.example.com:8443 is not on the webhook allow list"
    )


async def test_http_is_refused_unless_an_http_origin_is_listed(fake: FakeDingTalk, make_client: MakeClient) -> None:
    https_only = make_client(allowlist=[f"https://127.0.0.1:{fake.port}"])
    with pytest.raises(InvalidParameter):
        await https_only.post_webhook(fake.session_webhook("s"), text_message("hi"))
    dingtalk = make_client(allowlist=["https://oapi.dingtalk.com", "https://api.dingtalk.com"])
    dingtalk.check_url("https://oapi.dingtalk.com/robot/sendBySession?session=x")
    dingtalk.check_url("https://OAPI.dingtalk.com:443/robot/send?access_token=x")
    for url in ("http://oapi.dingtalk.com/robot/send", "https://oapi.dingtalk.com.evil.com/", "https://dingtalk.com/"):
        with pytest.raises(InvalidParameter):
            dingtalk.check_url(url)
    assert fake.requests == []


def test_a_malformed_allow_list_entry_is_refused() -> None:
    with pytest.raises(ValueError, match="expected"):
        DingTalkClient("https://api.dingtalk.com", "k", "s", ["oapi.dingtalk.com"])
    with pytest.raises(ValueError, match="origin only"):
        DingTalkClient("https://api.dingtalk.com", "k", "s", ["https://oapi.dingtalk.com/robot"])


async def test_redirects_are_not_followed(fake: FakeDingTalk, client: DingTalkClient) -> None:
    with pytest.raises(DingTalkError, match="redirect not followed") as caught:
        await client.post_webhook(fake.redirect_url(fake.session_webhook("s-target")), text_message("hi"))
    assert caught.value.upstream_status == 307 and not caught.value.transient
    assert [request.kind for request in fake.requests] == ["redirect"]
    assert fake.session_messages() == []


async def test_one_pooled_session_serves_concurrent_posts(fake: FakeDingTalk, client: DingTalkClient) -> None:
    await asyncio.gather(*(client.post_webhook(fake.session_webhook(f"p{i}"), text_message(str(i))) for i in range(10)))
    assert all(fake.session_messages(f"p{i}") == [text_message(str(i))] for i in range(10))
    await client.close()
    await client.post_webhook(fake.session_webhook("after-close"), text_message("again"))  # a new session
    assert fake.session_messages("after-close") == [text_message("again")]


async def test_no_error_or_log_line_shows_a_webhook_token_sign_or_session(
    fake: FakeDingTalk, make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(attempts=2, timeout=0.2)
    session, token, secret = "session-secret-7f3a9c", "robot-token-4b2e8d", "SEC" + "9" * 40
    fake.add_robot(token, secret)
    signed = signed_webhook_url(fake.robot_webhook(token), secret, int(time.time() * 1000))
    sign = signed.rsplit("sign=", 1)[1]
    messages = []
    for kind, key, url, fault in [
        ("session", session, fake.session_webhook(session), {"errcode": 300001, "message": f"bad session {session}"}),
        ("session", session, fake.session_webhook(session), {"status": 502}),
        ("session", session, fake.session_webhook(session), {"drop": True}),
        ("session", session, fake.session_webhook(session), {"delay": 1.0, "status": 500}),
        ("robot", token, signed, {"errcode": 310000, "message": f"sign not match: {token}"}),
    ]:
        fake.heal()
        fake.fail(kind, key, **fault)
        with pytest.raises(DingTalkError) as caught:
            await client.post_webhook(url, text_message("hi"))
        messages.append(caught.value.message + " " + caught.value.errmsg + " " + repr(caught.value))
    fake.heal()
    with pytest.raises(DingTalkError) as caught:
        await client.post_webhook(fake.robot_webhook(token), text_message("unsigned"))
    messages.append(caught.value.message)
    assert "try 2 of 2" in caplog.text
    for text in (*messages, caplog.text):
        for secret_value in (session, token, secret, sign):
            assert secret_value not in text
    assert "***" in messages[0]  # DingTalk's echo of the session was masked
