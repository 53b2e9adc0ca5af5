"""Two `dtbot serve` replicas on one MariaDB and one Redis behave as one."""

from __future__ import annotations

import concurrent.futures
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import provision
from tests.fakes.dingtalk import FakeDingTalk
from tests.fakes.llm import FakeLLM
from tests.support.servers import Server
from tests.test_dingtalk_robot import payload_for, post, replies, robot_env
from tests.test_gateway import usage_rows


@pytest.fixture
def replicas(tmp_path: Path, fake_llm: FakeLLM, fake_dingtalk: FakeDingTalk) -> Iterator[tuple[Server, Server]]:
    (tmp_path / "config.toml").write_text("[dingtalk]\nlease_seconds = 2\nrequeue_seconds = 1\n")
    with provision("mysql", tmp_path) as backend:
        env = robot_env(fake_llm, fake_dingtalk)
        first = Server(tmp_path, backend, env).start()
        second = Server(tmp_path, backend, env)
        second.admin_key = first.admin_key
        second.start()
        try:
            yield first, second
        finally:
            second.stop()
            first.stop()


def test_the_same_msg_id_to_both_replicas_is_answered_once(
    replicas: tuple[Server, Server], fake_dingtalk: FakeDingTalk
) -> None:
    payload, session = payload_for(fake_dingtalk, "两个副本")
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda i: post(replicas[i % 2], payload), range(6)))
    assert {a.status_code for a in answers} == {200}
    assert len(replies(fake_dingtalk, session)) == 1
    time.sleep(1.5)
    assert len(fake_dingtalk.session_messages(session)) == 1


def test_a_message_accepted_by_a_killed_replica_is_answered_by_the_other(
    replicas: tuple[Server, Server], fake_dingtalk: FakeDingTalk
) -> None:
    first, _second = replicas
    payload, session = payload_for(fake_dingtalk, "接手 [[fake:delay=2]]")
    assert post(first, payload).status_code == 200
    time.sleep(0.5)  # the first replica has it, waiting on the model
    first.stop(signal.SIGKILL)
    sent = replies(fake_dingtalk, session, seconds=20)
    assert [m["text"]["content"] for m in sent] == ["Echo: 接手"]


def test_stats_and_conversations_agree_and_a_load_loses_no_usage(replicas: tuple[Server, Server]) -> None:
    first, second = replicas
    with first.client() as a, second.client() as b:
        conversation = a.post("/conversations", json={"title": "共享会话", "model": "gpt-4"}).json()["data"]
        assert b.get(f"/conversations/{conversation['conversationId']}").json()["data"]["title"] == "共享会话"
        body = {"model": "gpt-4", "messages": [{"role": "user", "content": "load"}]}

        def call(index: int) -> httpx.Response:
            return (a if index % 2 else b).post("/chat/completions", json=body)

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(call, range(60)))
        assert {r.status_code for r in answers} == {200}
        for response in answers[-3:]:
            assert len(usage_rows(first, response.headers["x-request-id"])) == 1
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            seen = [a.get("/stats").json()["data"], b.get("/stats").json()["data"]]
            if seen[0] == seen[1] and seen[0]["totalMessages"] >= 60:
                break
            time.sleep(0.2)
    assert seen[0] == seen[1]
    assert seen[0]["totalMessages"] == 60
