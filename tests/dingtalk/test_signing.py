"""Callback signatures (DingTalk's and the API document's nonce variant) and signed custom robot URLs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

from dtbot.dingtalk.client import DingTalkClient, DingTalkError
from dtbot.dingtalk.messages import text_message
from dtbot.dingtalk.signing import sign, signed_webhook_url, verify_callback, verify_nonce_callback
from dtbot.errors import InvalidSignature
from tests.fakes.dingtalk import FakeDingTalk, signed_callback_headers

SECRET = "SECtest-app-secret-0123456789"
NOW = 1_700_000_000_000
HOUR = 3_600_000


def test_sign_matches_the_published_test_vector() -> None:
    assert sign("1700000000000", "SECtest") == "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g="


def test_headers_signed_as_dingtalk_does_are_accepted() -> None:
    headers = signed_callback_headers(SECRET, NOW)
    verify_callback(headers["timestamp"], headers["sign"], SECRET, NOW)


@pytest.mark.parametrize("offset", [HOUR, -HOUR, HOUR - 1])
def test_timestamps_within_an_hour_either_way_are_accepted(offset: int) -> None:
    headers = signed_callback_headers(SECRET, NOW + offset)
    verify_callback(headers["timestamp"], headers["sign"], SECRET, NOW)


@pytest.mark.parametrize(("offset", "case"), [(-HOUR - 1, "stale"), (HOUR + 1, "future")])
def test_timestamps_more_than_an_hour_away_are_refused(offset: int, case: str) -> None:
    headers = signed_callback_headers(SECRET, NOW + offset)
    with pytest.raises(InvalidSignature, match="timestamp too far"):
        verify_callback(headers["timestamp"], headers["sign"], SECRET, NOW)


@pytest.mark.parametrize("timestamp", ["abc", "1.7e12", "-1700000000000", " 1700000000000", "١٧٠٠٠٠٠٠٠٠٠٠٠", "9" * 40])
def test_garbled_timestamps_are_refused(timestamp: str) -> None:
    signature = sign(timestamp, SECRET)  # even correctly signed
    with pytest.raises(InvalidSignature, match="not a number"):
        verify_callback(timestamp, signature, SECRET, NOW)


@pytest.mark.parametrize(
    ("timestamp", "signature", "reason"),
    [
        (None, "x", "missing timestamp"),
        ("", "x", "missing timestamp"),
        (str(NOW), None, "missing sign"),
        (str(NOW), "", "missing sign"),
    ],
)
def test_missing_headers_are_refused(timestamp: str | None, signature: str | None, reason: str) -> None:
    with pytest.raises(InvalidSignature, match=reason):
        verify_callback(timestamp, signature, SECRET, NOW)


@pytest.mark.parametrize(
    "signature",
    [
        sign(str(NOW), "another-secret"),
        sign(str(NOW + 1), SECRET),
        "garbage",
        "签名",
        sign(str(NOW), SECRET)[:-2],
    ],
)
def test_wrong_signatures_are_refused_without_revealing_the_secret_or_the_expected_sign(signature: str) -> None:
    with pytest.raises(InvalidSignature) as caught:
        verify_callback(str(NOW), signature, SECRET, NOW)
    assert caught.value.code == 40002 and caught.value.status == 401
    assert SECRET not in caught.value.message
    assert sign(str(NOW), SECRET) not in caught.value.message


def nonce_sign(timestamp: str, nonce: str, secret: str) -> str:
    """The API document's formula, written out here rather than taken from the code under test."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{nonce}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_the_nonce_variant_accepts_its_own_signature_only() -> None:
    timestamp, nonce = str(NOW), "n-0001"
    verify_nonce_callback(timestamp, nonce, nonce_sign(timestamp, nonce, SECRET), SECRET, NOW)
    with pytest.raises(InvalidSignature, match="mismatch"):
        verify_nonce_callback(timestamp, "n-0002", nonce_sign(timestamp, nonce, SECRET), SECRET, NOW)
    with pytest.raises(InvalidSignature, match="mismatch"):
        verify_nonce_callback(timestamp, nonce, sign(timestamp, SECRET), SECRET, NOW)  # DingTalk's, not this one
    with pytest.raises(InvalidSignature, match="missing nonce"):
        verify_nonce_callback(timestamp, None, nonce_sign(timestamp, "", SECRET), SECRET, NOW)
    stale = str(NOW - HOUR - 1)
    with pytest.raises(InvalidSignature, match="too far"):
        verify_nonce_callback(stale, nonce, nonce_sign(stale, nonce, SECRET), SECRET, NOW)


def test_a_custom_tolerance_is_honoured() -> None:
    headers = signed_callback_headers(SECRET, NOW - 61_000)
    verify_callback(headers["timestamp"], headers["sign"], SECRET, NOW)
    with pytest.raises(InvalidSignature):
        verify_callback(headers["timestamp"], headers["sign"], SECRET, NOW, tolerance_ms=60_000)


def test_signed_url_keeps_the_token_and_url_encodes_the_sign() -> None:
    url = signed_webhook_url("https://oapi.dingtalk.com/robot/send?access_token=abc", "SECtest", NOW)
    assert url == (
        "https://oapi.dingtalk.com/robot/send?access_token=abc"
        "&timestamp=1700000000000&sign=aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g%3D"
    )
    again = signed_webhook_url(url, "SECtest", NOW + 1)
    assert again.count("timestamp=") == 1 and again.count("sign=") == 1 and "timestamp=1700000000001" in again


async def test_signed_webhook_url_is_accepted_by_the_custom_robot(fake: FakeDingTalk, client: DingTalkClient) -> None:
    robot_secret = "SEC" + "f" * 64
    fake.add_robot("robot-token-1", robot_secret)
    now_ms = int(time.time() * 1000)
    signs = [sign(str(now_ms - i), robot_secret) for i in range(20)]
    assert any("+" in s or "/" in s for s in signs)  # these must survive URL encoding
    for i in range(20):
        url = signed_webhook_url(fake.robot_webhook("robot-token-1"), robot_secret, now_ms - i)
        await client.post_webhook(url, text_message(f"第{i}条"))
    assert [body["text"]["content"] for body in fake.robot_messages("robot-token-1")] == [f"第{i}条" for i in range(20)]
    assert {request.query["sign"] for request in fake.requests} == set(signs)


async def test_the_custom_robot_refuses_unsigned_and_wrongly_signed_urls(
    fake: FakeDingTalk, client: DingTalkClient
) -> None:
    fake.add_robot("robot-token-2", "SECright")
    now_ms = int(time.time() * 1000)
    for url in (
        fake.robot_webhook("robot-token-2"),
        signed_webhook_url(fake.robot_webhook("robot-token-2"), "SECwrong", now_ms),
        signed_webhook_url(fake.robot_webhook("robot-token-2"), "SECright", now_ms - 2 * HOUR),
    ):
        with pytest.raises(DingTalkError) as caught:
            await client.post_webhook(url, text_message("hi"))
        assert caught.value.errcode == 310000
        assert "robot-token-2" not in caught.value.message and "SEC" not in caught.value.message
    assert fake.robot_messages() == []
