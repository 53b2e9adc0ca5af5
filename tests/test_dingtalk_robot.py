"""The DingTalk robot through a running server: signatures, dedup, commands, replies, delivery, restarts."""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import hmac
import json
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from dtbot.dingtalk.signing import sign
from tests.conftest import ROBOT_APP_SECRET as APP_SECRET
from tests.conftest import provider_env, provision, started
from tests.fakes.dingtalk import FakeDingTalk, callback_payload, signed_callback_headers
from tests.fakes.llm import FakeLLM
from tests.support.servers import Server
from tests.test_api_auth import assert_error

WEBHOOK_SECRET = "dtbot-test-webhook-secret"


def robot_env(llm: FakeLLM, dingtalk: FakeDingTalk, **extra: str) -> dict[str, str]:
    return (
        provider_env(llm)
        | {
            "DINGTALK_APP_KEY": dingtalk.app_key,
            "DINGTALK_APP_SECRET": APP_SECRET,
            "DINGTALK_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "DINGTALK_API_BASE": dingtalk.api_base,
            "DINGTALK_WEBHOOK_ALLOWLIST": dingtalk.origin,
            "DEFAULT_MODEL": "gpt-4",
        }
        | extra
    )


@pytest.fixture(scope="module", params=["sqlite", "mysql"])
def robot(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_llm: FakeLLM,
    fake_dingtalk: FakeDingTalk,
) -> Any:
    directory = tmp_path_factory.mktemp(f"robot-{request.param}")
    with provision(request.param, directory) as backend:
        server = Server(directory, backend, robot_env(fake_llm, fake_dingtalk)).start()
        try:
            yield server
        finally:
            server.stop()


def post(server: Server, payload: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    headers = signed_callback_headers(APP_SECRET) if headers is None else headers
    return httpx.post(f"{server.base}/dingtalk/webhook", json=payload, headers=headers, timeout=30)


def replies(fake: FakeDingTalk, session: str, count: int = 1, seconds: float = 15) -> list[dict[str, Any]]:
    """The bodies posted to one sessionWebhook, once `count` have come (or the time is up)."""
    deadline = time.monotonic() + seconds
    while True:
        found = fake.session_messages(session)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def payload_for(fake: FakeDingTalk, text: str, **options: Any) -> tuple[dict[str, Any], str]:
    session = f"s-{time.monotonic_ns()}"
    return callback_payload(text, session_webhook=fake.session_webhook(session), **options), session


def test_the_architecture_signature_vector() -> None:
    assert sign("1700000000000", "SECtest") == "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g="


def test_a_question_is_answered_once_through_the_session_webhook(robot: Server, fake_dingtalk: FakeDingTalk) -> None:
    payload, session = payload_for(fake_dingtalk, "今天天气怎么样")
    answer = post(robot, payload)
    assert answer.status_code == 200
    assert answer.json() == {"code": 200, "message": "success", "data": {"msgtype": "empty"}}
    sent = replies(fake_dingtalk, session)
    assert len(sent) == 1
    assert sent[0]["msgtype"] == "text" and sent[0]["text"]["content"] == "Echo: 今天天气怎么样"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"timestamp": str(int(time.time() * 1000)), "sign": "bm90IGEgc2lnbmF0dXJl"},
        {"timestamp": str(int(time.time() * 1000) - 2 * 3600 * 1000)},
        {"timestamp": "soon", "sign": "x"},
    ],
    ids=["missing", "wrong", "stale", "garbled"],
)
def test_bad_signatures_are_401_40002_and_nothing_is_processed(
    robot: Server, fake_dingtalk: FakeDingTalk, headers: dict[str, str]
) -> None:
    payload, session = payload_for(fake_dingtalk, "should not be answered")
    if "timestamp" in headers and "sign" not in headers:  # stale but correctly signed
        headers = {**headers, "sign": sign(headers["timestamp"], APP_SECRET)}
    assert_error(post(robot, payload, headers), 401, 40002)
    time.sleep(0.5)
    assert fake_dingtalk.session_messages(session) == []


def nonce_headers() -> dict[str, str]:
    """The API document's signature variant: HMAC-SHA256 of `timestamp\nnonce` with the webhook secret."""
    timestamp, nonce = str(int(time.time() * 1000)), f"nonce-{time.monotonic_ns()}"
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}\n{nonce}".encode(), hashlib.sha256).digest()
    return {"timestamp": timestamp, "nonce": nonce, "sign": base64.b64encode(digest).decode()}


def test_the_documents_nonce_variant_refuses_a_replay(robot: Server, fake_dingtalk: FakeDingTalk) -> None:
    headers = nonce_headers()
    first, session = payload_for(fake_dingtalk, "nonce one")
    assert post(robot, first, headers).status_code == 200
    second, _ = payload_for(fake_dingtalk, "nonce two")
    assert_error(post(robot, second, headers), 401, 40002)
    assert len(replies(fake_dingtalk, session)) == 1


def test_the_same_msg_id_five_times_at_once_gives_one_reply(robot: Server, fake_dingtalk: FakeDingTalk) -> None:
    payload, session = payload_for(fake_dingtalk, "duplicate delivery")
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(lambda _: post(robot, payload), range(5)))
    assert [a.status_code for a in answers] == [200] * 5
    assert len(replies(fake_dingtalk, session)) == 1
    time.sleep(1.0)
    assert len(fake_dingtalk.session_messages(session)) == 1


def test_group_mention_is_stripped_and_the_sender_mentioned(
    robot: Server, fake_dingtalk: FakeDingTalk, fake_llm: FakeLLM
) -> None:
    payload, session = payload_for(fake_dingtalk, "群里的问题", group=True, sender="staff-42")
    assert payload["text"]["content"].startswith(" ")
    fake_llm.clear()
    post(robot, payload)
    sent = replies(fake_dingtalk, session)
    assert sent[0]["at"]["atUserIds"] == ["staff-42"]
    assert fake_llm.bodies()[0]["messages"][-1]["content"] == "群里的问题"


@pytest.mark.parametrize(("command", "expected"), [("/help", "/reset"), ("帮助", "/model"), ("/usage", "tokens")])
def test_commands_are_answered_in_the_callbacks_answer(
    robot: Server, fake_dingtalk: FakeDingTalk, command: str, expected: str
) -> None:
    payload, _ = payload_for(fake_dingtalk, command)
    data = post(robot, payload).json()["data"]
    assert data["msgtype"] == "text" and expected in data["text"]["content"]


def test_model_and_reset_commands_change_the_chats_conversation(
    robot: Server, fake_dingtalk: FakeDingTalk, fake_llm: FakeLLM
) -> None:
    sender = f"switcher-{time.monotonic_ns()}"
    switch, _ = payload_for(fake_dingtalk, "/model glm-4", sender=sender)
    assert "glm-4" in post(robot, switch).json()["data"]["text"]["content"]
    fake_llm.clear()
    question, session = payload_for(fake_dingtalk, "用新模型回答", sender=sender)
    post(robot, question)
    replies(fake_dingtalk, session)
    assert [r.kind for r in fake_llm.requests] == ["zhipu"]
    reset, _ = payload_for(fake_dingtalk, "重置", sender=sender)
    assert "新的对话" in post(robot, reset).json()["data"]["text"]["content"]
    fake_llm.clear()
    after, session = payload_for(fake_dingtalk, "重置之后", sender=sender)
    post(robot, after)
    replies(fake_dingtalk, session)
    assert [m["content"] for m in fake_llm.bodies()[0]["messages"] if m["role"] == "user"] == ["重置之后"]


def test_pictures_get_a_polite_reply(robot: Server, fake_dingtalk: FakeDingTalk) -> None:
    payload, _ = payload_for(fake_dingtalk, "")
    payload["msgtype"] = "picture"
    payload.pop("text", None)
    payload["content"] = {"downloadCode": "abc"}
    data = post(robot, payload).json()["data"]
    assert "图片" in data["text"]["content"]


def test_a_slow_model_does_not_hold_the_webhook(robot: Server, fake_dingtalk: FakeDingTalk) -> None:
    payload, session = payload_for(fake_dingtalk, "think slowly [[fake:delay=2]]")
    answer = post(robot, payload)
    assert answer.json()["data"] == {"msgtype": "empty"}
    assert fake_dingtalk.session_messages(session) == []  # the answer came back before the model did
    assert len(replies(fake_dingtalk, session)) == 1


@pytest.mark.parametrize("group", [False, True])
def test_an_expired_session_webhook_falls_back_to_the_openapi(
    robot: Server, fake_dingtalk: FakeDingTalk, group: bool
) -> None:
    payload, session = payload_for(
        fake_dingtalk, f"expired {group}", group=group, sender="staff-7", expires_ms=int(time.time() * 1000) - 1000
    )
    before = len(fake_dingtalk.openapi_messages())
    post(robot, payload)
    deadline = time.monotonic() + 15
    while len(fake_dingtalk.openapi_messages()) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    sent = fake_dingtalk.openapi_messages()[before:]
    assert len(sent) == 1
    assert fake_dingtalk.session_messages(session) == []
    if group:
        assert (
            sent[0]["path"].endswith("/groupMessages/send")
            and sent[0]["body"]["openConversationId"] == payload["conversationId"]
        )
    else:
        assert sent[0]["path"].endswith("/oToMessages/batchSend") and sent[0]["body"]["userIds"] == ["staff-7"]


def test_a_session_webhook_off_the_allow_list_is_refused(robot: Server) -> None:
    payload = callback_payload("sneaky", session_webhook="http://127.0.0.1:9/robot/sendBySession?session=x")
    assert_error(post(robot, payload), 400, 40003)


def test_send_api_targets_and_allow_list(robot: Server, fake_dingtalk: FakeDingTalk) -> None:
    session = f"send-{time.monotonic_ns()}"
    with robot.client() as client:
        sent = client.post(
            "/dingtalk/send",
            json={
                "sessionWebhook": fake_dingtalk.session_webhook(session),
                "msgtype": "text",
                "text": {"content": "这是一条主动推送的消息"},
                "at": {"atUserIds": ["user123"], "isAtAll": False},
            },
        )
        refused = client.post(
            "/dingtalk/send",
            json={
                "sessionWebhook": "http://127.0.0.1:9/robot/sendBySession",
                "msgtype": "text",
                "text": {"content": "x"},
            },
        )
        no_title = client.post(
            "/dingtalk/send",
            json={
                "sessionWebhook": fake_dingtalk.session_webhook(session),
                "msgtype": "markdown",
                "markdown": {"text": "x"},
            },
        )
        two_targets = client.post(
            "/dingtalk/send",
            json={
                "sessionWebhook": fake_dingtalk.session_webhook(session),
                "userIds": ["a"],
                "msgtype": "text",
                "text": {"content": "x"},
            },
        )
    assert sent.status_code == 200 and sent.json()["message"] == "消息发送成功"
    assert sent.json()["data"]["messageId"].startswith("msg_") and sent.json()["data"]["timestamp"] > 0
    assert fake_dingtalk.session_messages(session)[0]["text"]["content"] == "这是一条主动推送的消息"
    assert_error(refused, 400, 40003)
    assert "markdown.title" in assert_error(no_title, 400, 40003)["message"]
    assert_error(two_targets, 400, 40003)
    assert len(fake_dingtalk.session_messages(session)) == 1


def test_send_to_a_custom_robot_is_signed_and_limited(robot: Server, fake_dingtalk: FakeDingTalk) -> None:
    token = f"robot-{time.monotonic_ns()}"
    fake_dingtalk.add_robot(token, "SECcustom-robot-secret")
    body = {
        "webhook": fake_dingtalk.robot_webhook(token),
        "secret": "SECcustom-robot-secret",
        "msgtype": "markdown",
        "markdown": {"title": "日报", "text": "## 今日\n- 一切正常"},
    }
    with robot.client() as client:
        statuses = [client.post("/dingtalk/send", json=body).status_code for _ in range(21)]
    assert statuses[:20] == [200] * 20 and statuses[20] == 429
    assert len(fake_dingtalk.robot_messages(token)) == 20


def test_a_killed_server_answers_an_accepted_message_exactly_once_after_restart(
    tmp_path: Path, fake_llm: FakeLLM, fake_dingtalk: FakeDingTalk
) -> None:
    with provision("sqlite", tmp_path) as backend:
        env = robot_env(fake_llm, fake_dingtalk)
        (tmp_path / "config.toml").write_text("[dingtalk]\nlease_seconds = 2\nrequeue_seconds = 1\n")
        first = Server(tmp_path, backend, env).start()
        payload, session = payload_for(fake_dingtalk, "survive a crash [[fake:delay=3]]")
        assert post(first, payload).status_code == 200
        time.sleep(0.5)  # claimed and waiting on the model
        first.stop(signal.SIGKILL)
        second = Server(tmp_path, backend, env, port=first.port)
        second.admin_key = first.admin_key
        second.start()
        try:
            sent = replies(fake_dingtalk, session, seconds=20)
            assert len(sent) == 1
            time.sleep(2)
            assert len(fake_dingtalk.session_messages(session)) == 1
        finally:
            second.stop()


def test_stream_mode_end_to_end(tmp_path: Path, fake_llm: FakeLLM, fake_dingtalk: FakeDingTalk) -> None:
    with (
        provision("sqlite", tmp_path) as backend,
        started(tmp_path, backend, **robot_env(fake_llm, fake_dingtalk, DINGTALK_MODE="stream")),
    ):
        payload, session = payload_for(fake_dingtalk, "via stream")
        deadline = time.monotonic() + 15
        while not fake_dingtalk.stream_connected() and time.monotonic() < deadline:
            time.sleep(0.05)
        message_id = fake_dingtalk.push_bot_message_threadsafe(payload)
        sent = replies(fake_dingtalk, session)
        assert sent and sent[0]["text"]["content"] == "Echo: via stream"
        assert message_id in fake_dingtalk.stream_acks


def test_cli_simulate_send_and_inbox(robot: Server, fake_dingtalk: FakeDingTalk, fake_llm: FakeLLM) -> None:
    from tests.test_chat_cli import dtbot

    env = robot_env(fake_llm, fake_dingtalk)
    session = f"cli-{time.monotonic_ns()}"
    simulated = dtbot(
        robot.backend,
        fake_llm,
        "dingtalk",
        "simulate",
        "你好，机器人",
        "--group",
        "--sender",
        "ops-1",
        "--url",
        robot.base.removesuffix("/api"),
        "--session-webhook",
        fake_dingtalk.session_webhook(session),
        **env,
    )
    assert simulated.returncode == 0, simulated.stderr
    assert "Echo: 你好，机器人" in simulated.stdout and "session_webhook" in simulated.stdout
    assert fake_dingtalk.session_messages(session)[0]["at"]["atUserIds"] == ["ops-1"]
    inbox = json.loads(dtbot(robot.backend, fake_llm, "dingtalk", "inbox", "--json", **env).stdout)
    assert inbox[0]["text"] == "你好，机器人" and inbox[0]["status"] == "answered"
    sent = dtbot(
        robot.backend,
        fake_llm,
        "dingtalk",
        "send",
        "部署完成",
        "--title",
        "发布通知",
        "--session-webhook",
        fake_dingtalk.session_webhook(session),
        **env,
    )
    assert sent.returncode == 0, sent.stderr
    assert fake_dingtalk.session_messages(session)[-1]["markdown"] == {"title": "发布通知", "text": "部署完成"}
    refused = dtbot(
        robot.backend, fake_llm, "dingtalk", "send", "x", "--session-webhook", "http://10.0.0.1/hook", **env
    )
    assert (refused.returncode == 2 and "sessionWebhook" in refused.stderr) or "webhook" in refused.stderr
    bad_status = dtbot(robot.backend, fake_llm, "dingtalk", "inbox", "--status", "lost", **env)
    assert bad_status.returncode == 2


def test_a_failed_delivery_is_retried_without_asking_the_model_again(
    robot: Server, fake_dingtalk: FakeDingTalk, fake_llm: FakeLLM
) -> None:
    payload, session = payload_for(fake_dingtalk, "deliver me twice")
    fake_dingtalk.fail("session", session, errcode=300001, message="session closed", times=1)
    fake_dingtalk.fail("batchSend", status=503, times=10)
    fake_llm.clear()
    post(robot, payload)
    sent = replies(fake_dingtalk, session, seconds=30)
    fake_dingtalk.heal()
    assert [m["text"]["content"] for m in sent] == ["Echo: deliver me twice"]
    assert len([r for r in fake_llm.requests if "deliver me twice" in str(r.body)]) == 1


def test_ai_cards_stream_the_answer_and_fall_back_when_refused(
    tmp_path: Path, fake_llm: FakeLLM, fake_dingtalk: FakeDingTalk
) -> None:
    (tmp_path / "config.toml").write_text("[dingtalk]\ncard_update_seconds = 0.1\n")
    env = robot_env(fake_llm, fake_dingtalk, DINGTALK_CARD_TEMPLATE_ID="tpl-answer.schema")
    with provision("sqlite", tmp_path) as backend, started(tmp_path, backend, **env) as server:
        before = set(fake_dingtalk.cards)
        payload, session = payload_for(
            fake_dingtalk, "卡片里的回答 [[fake:chunks=6,chunk_delay=0.15]]", sender="card-1"
        )
        post(server, payload)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            new = [c for track, c in fake_dingtalk.cards.items() if track not in before]
            if new and new[0]["updates"] and new[0]["updates"][-1]["isFinalize"]:
                break
            time.sleep(0.05)
        card = new[0]
        assert card["create"]["cardTemplateId"] == "tpl-answer.schema"
        assert card["create"]["openSpaceId"] == "dtv1.card//IM_ROBOT.card-1"
        updates = card["updates"]
        assert len(updates) >= 2 and not updates[0]["isFinalize"]
        assert updates[-1]["content"] == "Echo: 卡片里的回答" and updates[-1]["key"] == "content"
        assert fake_dingtalk.session_messages(session) == []

        fake_dingtalk.fail("cardCreate", status=403, code="Forbidden", times=1)
        refused, session = payload_for(fake_dingtalk, "no card for me")
        post(server, refused)
        assert replies(fake_dingtalk, session)[0]["text"]["content"] == "Echo: no card for me"
        fake_dingtalk.heal()
