"""DingTalk misbehaving while the robot delivers, through a running server and the fake DingTalk.

sessionWebhook 5xx, dropped connections and timeouts, OpenAPI tokens expiring between
sends, and errcode refusals: retried, fallen back to the OpenAPI, and recorded
in the inbox (what `dtbot dingtalk inbox` shows). The messages are answered
once by the model whatever happens to their delivery.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dtbot.services.dingtalk.inbox import InboxEntry
from dtbot.services.runtime import Runtime
from tests.conftest import run_on, started
from tests.fakes.dingtalk import FakeDingTalk
from tests.fakes.llm import FakeLLM
from tests.support.backends import sqlite_backend
from tests.support.servers import Server
from tests.test_dingtalk_robot import payload_for, post, replies, robot_env

# Retries of a failed delivery come quickly here (DingTalk's own retries stay as configured).
CONFIG = """
[dingtalk]
requeue_seconds = 1.0
"""


@pytest.fixture(scope="module")
def robot(tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM, fake_dingtalk: FakeDingTalk) -> Iterator[Server]:
    directory: Path = tmp_path_factory.mktemp("robot-delivery-faults")
    (directory / "config.toml").write_text(CONFIG)
    with started(directory, sqlite_backend(directory), **robot_env(fake_llm, fake_dingtalk)) as server:
        yield server


@pytest.fixture(autouse=True)
def healed(fake_dingtalk: FakeDingTalk) -> Iterator[None]:
    yield
    fake_dingtalk.heal()


def inbox_entry(server: Server, msg_id: str, status: str, seconds: float = 30) -> InboxEntry:
    """The inbox's record of a message once it reaches `status` (or the time is up)."""

    async def read(runtime: Runtime) -> InboxEntry | None:
        return await runtime.inbox.by_msg_id(msg_id)

    deadline = time.monotonic() + seconds
    while True:
        entry = run_on(server.backend, read)
        if (entry is not None and entry.status == status) or time.monotonic() > deadline:
            assert entry is not None
            return entry
        time.sleep(0.2)


def openapi_sends_after(fake: FakeDingTalk, before: int, count: int = 1, seconds: float = 20) -> list[dict[str, Any]]:
    deadline = time.monotonic() + seconds
    while len(fake.openapi_messages()) - before < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return fake.openapi_messages()[before:]


def test_session_webhook_5xx_is_retried_and_one_reply_arrives(robot: Server, fake_dingtalk: FakeDingTalk) -> None:
    payload, session = payload_for(fake_dingtalk, "5xx twice")
    fake_dingtalk.fail("session", session, status=502, times=2)
    post(robot, payload)
    assert [m["text"]["content"] for m in replies(fake_dingtalk, session)] == ["Echo: 5xx twice"]
    entry = inbox_entry(robot, payload["msgId"], "answered")
    assert entry.delivered_via == "session_webhook"


def test_a_session_webhook_that_drops_the_connection_falls_back_to_the_openapi(
    robot: Server, fake_dingtalk: FakeDingTalk
) -> None:
    payload, session = payload_for(fake_dingtalk, "dropped session", sender="staff-drop")
    fake_dingtalk.fail("session", session, drop=True)
    before = len(fake_dingtalk.openapi_messages())
    post(robot, payload)
    sent = openapi_sends_after(fake_dingtalk, before)
    assert [m["body"]["userIds"] for m in sent] == [["staff-drop"]]
    assert fake_dingtalk.session_messages(session) == []
    assert inbox_entry(robot, payload["msgId"], "answered").delivered_via == "openapi"


def test_an_access_token_expiring_between_sends_is_renewed(robot: Server, fake_dingtalk: FakeDingTalk) -> None:
    expired = int(time.time() * 1000) - 1000  # expired sessions go through the OpenAPI
    for round_ in range(2):
        payload, _ = payload_for(fake_dingtalk, f"token round {round_}", expires_ms=expired)
        before, tokens = len(fake_dingtalk.openapi_messages()), len(fake_dingtalk.tokens)
        post(robot, payload)
        assert len(openapi_sends_after(fake_dingtalk, before)) == 1
        assert inbox_entry(robot, payload["msgId"], "answered").delivered_via == "openapi"
        if round_ == 0:
            fake_dingtalk.expire_tokens()  # DingTalk revokes the token the server holds
    assert len(fake_dingtalk.tokens) > tokens  # the second send fetched a new one


def test_errcode_refusals_are_retried_a_few_times_then_recorded_as_failed(
    robot: Server, fake_dingtalk: FakeDingTalk, fake_llm: FakeLLM
) -> None:
    payload, session = payload_for(fake_dingtalk, "refused everywhere")
    fake_dingtalk.fail("session", session, errcode=310000, message="keywords not in content")
    fake_dingtalk.fail("batchSend", status=400, code="param.error", message="bad robotCode")
    fake_llm.clear()
    post(robot, payload)
    entry = inbox_entry(robot, payload["msgId"], "failed", seconds=40)
    assert entry.attempts >= 2 and entry.delivered_via is None
    assert entry.error is not None and "param.error" in entry.error
    assert entry.reply == "Echo: refused everywhere"  # kept: a retry would not ask the model again
    assert len([r for r in fake_llm.requests if "refused everywhere" in str(r.body)]) == 1


def test_a_session_webhook_that_never_answers_falls_back_to_the_openapi_in_bounded_time(
    robot: Server, fake_dingtalk: FakeDingTalk
) -> None:
    """Each attempt outlasts the client's 10 s timeout; after its retries the OpenAPI delivers, within a minute."""
    payload, session = payload_for(fake_dingtalk, "hanging session", sender="staff-hang")
    fake_dingtalk.fail("session", session, delay=12.0, drop=True)
    before = len(fake_dingtalk.openapi_messages())
    started_at = time.monotonic()
    post(robot, payload)
    sent = openapi_sends_after(fake_dingtalk, before, seconds=60)
    assert time.monotonic() - started_at < 60
    assert [m["body"]["userIds"] for m in sent] == [["staff-hang"]]
    assert fake_dingtalk.session_messages(session) == []
    assert inbox_entry(robot, payload["msgId"], "answered").delivered_via == "openapi"
