"""The send API's guard against internal hosts, through a running server: DNS tricks and redirects.

The fake DingTalk listens on 127.0.0.1. Listed as that address it is reachable;
listed by a name that resolves to it (`localhost`, the hex form of the
address) it is refused, because a name must resolve to public addresses only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import started
from tests.fakes.dingtalk import FakeDingTalk
from tests.support.backends import sqlite_backend
from tests.support.servers import Server
from tests.test_api_auth import assert_error

HEX_LOOPBACK = "0x7f000001"  # 127.0.0.1, which the system resolver accepts as a name


def disguises(fake: FakeDingTalk) -> list[str]:
    """Origins that name the fake's loopback address without being it."""
    return [f"http://localhost:{fake.port}", f"http://{HEX_LOOPBACK}:{fake.port}"]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, fake_dingtalk: FakeDingTalk) -> Iterator[Server]:
    """A server whose allow list holds the fake's address and two disguises of it."""
    directory: Path = tmp_path_factory.mktemp("send-guard")
    allowlist = ",".join([fake_dingtalk.origin, *disguises(fake_dingtalk)])
    with started(directory, sqlite_backend(directory), DINGTALK_WEBHOOK_ALLOWLIST=allowlist) as server:
        yield server


def send(server: Server, webhook: str) -> httpx.Response:
    with server.client() as client:
        return client.post(
            "/dingtalk/send", json={"sessionWebhook": webhook, "msgtype": "text", "text": {"content": "x"}}
        )


def test_the_listed_address_itself_is_reachable(guarded: Server, fake_dingtalk: FakeDingTalk) -> None:
    session = f"guard-{time.monotonic_ns()}"
    assert send(guarded, fake_dingtalk.session_webhook(session)).status_code == 200
    assert len(fake_dingtalk.session_messages(session)) == 1


@pytest.mark.parametrize("which", [0, 1], ids=["localhost", "hex-address"])
def test_a_listed_name_resolving_to_loopback_is_refused_before_any_request(
    guarded: Server, fake_dingtalk: FakeDingTalk, which: int
) -> None:
    session = f"guard-{time.monotonic_ns()}"
    webhook = fake_dingtalk.session_webhook(session).replace(fake_dingtalk.origin, disguises(fake_dingtalk)[which])
    found = assert_error(send(guarded, webhook), 400, 40003)
    assert "resolves to a non-public address" in found["message"]
    assert "session=" not in found["message"]  # the rest of the URL is a secret
    assert fake_dingtalk.session_messages(session) == []


def test_a_redirect_from_a_listed_host_is_not_followed(guarded: Server, fake_dingtalk: FakeDingTalk) -> None:
    session = f"guard-{time.monotonic_ns()}"
    response = send(guarded, fake_dingtalk.redirect_url(fake_dingtalk.session_webhook(session)))
    assert response.status_code >= 400
    assert "redirect not followed" in response.json()["message"]
    assert fake_dingtalk.session_messages(session) == []
