"""Conversations through a running server on both backends: CRUD, ownership, search, chat with history."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import func, select

from dtbot.services.conversations import HISTORY_PAGE, ConversationIn, Turn
from dtbot.services.runtime import Runtime
from dtbot.store import migrate
from dtbot.store.models import Message
from tests.conftest import run_on
from tests.fakes.llm import FakeLLM
from tests.support.backends import Backend
from tests.support.servers import Server
from tests.test_api_auth import assert_error


def new_key(server: Server, role: str = "user") -> str:
    with server.client() as admin:
        return admin.post("/keys", json={"name": f"{role}-key", "role": role}).json()["data"]["key"]


def create(client: httpx.Client, **fields: object) -> dict:
    response = client.post("/conversations", json=fields)
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "会话创建成功"
    return response.json()["data"]


def chat(client: httpx.Client, conversation_id: str, text: str, **extra: object) -> httpx.Response:
    body = {"conversationId": conversation_id, "messages": [{"role": "user", "content": text}], **extra}
    return client.post("/chat/completions", json=body)


def test_create_has_the_documents_shape(gateway: Server) -> None:
    with gateway.client() as client:
        data = create(
            client,
            userId="user_123",
            title="关于AI的讨论",
            model="gpt-4",
            systemPrompt="你是一个专业的AI助手",
            maxTokens=400,
            temperature=0.7,
        )
        defaulted = create(client, title="默认模型")
        assert_error(client.post("/conversations", json={"model": "gpt-99"}), 400, 40004)
        assert (
            "temperature" in assert_error(client.post("/conversations", json={"temperature": 5}), 400, 40003)["message"]
        )
        assert_error(client.post("/conversations", json={"colour": "red"}), 400, 40003)
    assert data["conversationId"].startswith("conv_")
    assert {k: data[k] for k in ("userId", "title", "model", "systemPrompt", "messageCount", "tokenUsage")} == {
        "userId": "user_123",
        "title": "关于AI的讨论",
        "model": "gpt-4",
        "systemPrompt": "你是一个专业的AI助手",
        "messageCount": 0,
        "tokenUsage": 0,
    }
    assert data["createdAt"] == data["updatedAt"] and data["createdAt"].endswith("+08:00")
    assert defaulted["model"] == "gpt-3.5-turbo"


def test_list_pages_newest_first_and_searches_chinese(gateway: Server) -> None:
    user = f"pager-{time.monotonic_ns()}"
    with gateway.client() as client:
        made = [create(client, userId=user, title=f"第{i}个会话") for i in range(5)]
        chat(client, made[1]["conversationId"], "请解释量子纠缠")
        first = client.get("/conversations", params={"userId": user, "limit": 2}).json()["data"]
        second = client.get("/conversations", params={"userId": user, "limit": 2, "page": 2}).json()["data"]
        by_title = client.get("/conversations", params={"userId": user, "search": "第3个"}).json()["data"]
        by_message = client.get("/conversations", params={"userId": user, "search": "量子纠缠"}).json()["data"]
        literal = client.get("/conversations", params={"userId": user, "search": "%"}).json()["data"]
        assert_error(client.get("/conversations", params={"limit": 101}), 400, 40003)
        assert_error(client.get("/conversations", params={"page": 0}), 400, 40003)
        assert_error(client.get("/conversations", params={"page": "x"}), 400, 40003)
    assert first["pagination"] == {"total": 5, "page": 1, "limit": 2, "totalPages": 3}
    assert first["conversations"][0]["conversationId"] == made[1]["conversationId"]  # the one just chatted in
    assert [c["conversationId"] for c in second["conversations"]] == [
        made[3]["conversationId"],
        made[2]["conversationId"],
    ]
    assert [c["title"] for c in by_title["conversations"]] == ["第3个会话"]
    assert [c["conversationId"] for c in by_message["conversations"]] == [made[1]["conversationId"]]
    assert literal["pagination"]["total"] == 0


def test_a_conversation_belongs_to_its_key(gateway: Server) -> None:
    alice, bob = new_key(gateway), new_key(gateway)
    with gateway.client(alice) as a, gateway.client(bob) as b, gateway.client() as admin:
        mine = create(a, title="alice only")["conversationId"]
        for response in (
            b.get(f"/conversations/{mine}"),
            b.get(f"/conversations/{mine}/messages"),
            b.delete(f"/conversations/{mine}"),
            chat(b, mine, "peek"),
        ):
            assert_error(response, 404, 40401)
        assert mine not in str(b.get("/conversations").json())
        assert mine in str(a.get("/conversations").json())
        assert admin.get(f"/conversations/{mine}").status_code == 200


def test_delete_cascades_and_every_route_then_404s(gateway: Server) -> None:
    with gateway.client() as client:
        conversation = create(client, title="to delete")["conversationId"]
        assert chat(client, conversation, "hello").status_code == 200
        deleted = client.delete(f"/conversations/{conversation}")
        assert deleted.json() == {"code": 200, "message": "会话删除成功", "data": None}
        for response in (
            client.get(f"/conversations/{conversation}"),
            client.get(f"/conversations/{conversation}/messages"),
            client.delete(f"/conversations/{conversation}"),
            chat(client, conversation, "again"),
        ):
            assert_error(response, 404, 40401)

    async def orphans(rt: Runtime) -> int:
        async with rt.db.session() as session:
            return await session.scalar(select(func.count()).where(Message.conversation_id == conversation)) or 0

    assert run_on(gateway.backend, orphans) == 0


def test_chat_sends_system_prompt_and_history_and_stores_the_turns(gateway: Server, fake_llm: FakeLLM) -> None:
    with gateway.client() as client:
        conversation = create(client, model="glm-4", systemPrompt="你是历史老师", temperature=0.3)["conversationId"]
        assert chat(client, conversation, "秦朝是哪一年建立的？").status_code == 200
        fake_llm.clear()
        second = chat(client, conversation, "那汉朝呢？")
        messages = client.get(f"/conversations/{conversation}/messages").json()["data"]
        listed = client.get(f"/conversations/{conversation}").json()["data"]
    assert second.json()["model"] == "glm-4"
    sent = fake_llm.bodies("zhipu")[0]
    assert [m["content"] for m in sent["messages"]] == [
        "你是历史老师",
        "秦朝是哪一年建立的？",
        "Echo: 秦朝是哪一年建立的？",
        "那汉朝呢？",
    ]
    assert sent["temperature"] == 0.3
    assert [(m["role"], m["content"]) for m in messages["messages"]] == [
        ("user", "秦朝是哪一年建立的？"),
        ("assistant", "Echo: 秦朝是哪一年建立的？"),
        ("user", "那汉朝呢？"),
        ("assistant", "Echo: 那汉朝呢？"),
    ]
    assert all(m["tokens"] > 0 and m["messageId"].startswith("msg_") for m in messages["messages"])
    assert messages["totalTokens"] == sum(m["tokens"] for m in messages["messages"]) == listed["tokenUsage"]
    assert listed["messageCount"] == 4 and listed["updatedAt"] >= listed["createdAt"]


def test_truncation_keeps_the_newest_turns_within_the_context(gateway: Server, fake_llm: FakeLLM) -> None:
    with gateway.client() as client:
        conversation = create(client, model="tiny", systemPrompt="sys", maxTokens=10)["conversationId"]
        for word in ["alpha one", "bravo two", "charlie three", "delta four"]:
            assert chat(client, conversation, word).status_code == 200, "each turn fits alone"
        fake_llm.clear()
        assert chat(client, conversation, "echo five").status_code == 200
        too_long = chat(client, conversation, "word " * 80)
    sent = [m["content"] for m in fake_llm.bodies("openai")[0]["messages"]]
    assert sent[0] == "sys" and sent[-1] == "echo five"
    assert "alpha one" not in sent and "delta four" in sent  # answers are cut at max_tokens=10 by the fake
    kept = sent[1:-1]
    assert kept == [x for pair in zip(kept[::2], kept[1::2], strict=True) for x in pair]  # whole turns only
    assert kept[0].startswith(("bravo", "charlie", "delta"))
    assert_error(too_long, 400, 40005)


def test_streaming_inside_a_conversation_stores_the_answer(gateway: Server) -> None:
    with gateway.client() as client:
        conversation = create(client, model="gpt-4")["conversationId"]
        with client.stream(
            "POST",
            "/chat/completions",
            json={
                "conversationId": conversation,
                "stream": True,
                "messages": [{"role": "user", "content": "流式"}],
            },
        ) as response:
            assert [line for line in response.iter_lines() if line][-1] == "data: [DONE]"
        messages = client.get(f"/conversations/{conversation}/messages").json()["data"]["messages"]
    assert [(m["role"], m["content"], m["cutOff"]) for m in messages] == [
        ("user", "流式", False),
        ("assistant", "Echo: 流式", False),
    ]


def test_a_hang_up_stores_the_partial_answer_as_cut_off(gateway: Server) -> None:
    with gateway.client() as client:
        conversation = create(client, model="gpt-4")["conversationId"]
        with client.stream(
            "POST",
            "/chat/completions",
            json={
                "conversationId": conversation,
                "stream": True,
                "messages": [{"role": "user", "content": "slow story [[fake:chunks=20,chunk_delay=0.2]]"}],
            },
        ) as response:
            for line in response.iter_lines():
                if '"content"' in line:
                    break
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            messages = client.get(f"/conversations/{conversation}/messages").json()["data"]["messages"]
            if messages:
                break
            time.sleep(0.1)
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[1]["cutOff"] is True
    assert 0 < len(messages[1]["content"]) < len("Echo: slow story")


@pytest.mark.parametrize("limit", [1, 3])
def test_messages_are_paged(gateway: Server, limit: int) -> None:
    with gateway.client() as client:
        conversation = create(client)["conversationId"]
        for text in ("one", "two"):
            chat(client, conversation, text, model="gpt-4")
        page = client.get(f"/conversations/{conversation}/messages", params={"limit": limit, "page": 2}).json()["data"]
    assert page["pagination"] == {"total": 4, "page": 2, "limit": limit, "totalPages": -(-4 // limit)}
    assert len(page["messages"]) == min(limit, 4 - limit)


def test_context_reads_only_the_recent_part_of_a_long_conversation(backend: Backend) -> None:
    """2,000 stored turns; a 1,000-token budget reads one page, and the whole turns that fit are the newest."""

    async def work(runtime: Runtime) -> tuple[list[Turn], list[Turn], int]:
        created = await runtime.conversations.create(ConversationIn(title="long"), None)
        turns = [Turn("user" if i % 2 == 0 else "assistant", f"message {i}", 7) for i in range(4000)]
        await runtime.conversations.append(created.conversation_id, turns)
        recent = await runtime.conversations.history(created.conversation_id, budget=1000)
        everything = await runtime.conversations.history(created.conversation_id, budget=10**9)
        return recent, everything, len(turns)

    migrate.upgrade(backend.database_url)
    recent, everything, stored = run_on(backend, work)
    assert len(everything) == stored and everything[0].content == "message 0"
    assert recent == everything[-len(recent) :]  # the newest, in order
    assert recent[0].role == "user"  # whole turns only
    assert sum(turn.cost for turn in recent) >= 1000  # enough to fill the budget
    assert len(recent) <= HISTORY_PAGE  # from one page of reading
