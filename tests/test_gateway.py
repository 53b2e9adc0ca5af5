"""The gateway through a running `dtbot serve`, driven by the official `openai` SDK and raw HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import openai
import pytest

from dtbot.services.runtime import Runtime
from dtbot.services.usage import UsageRecorder
from tests.conftest import GATEWAY_CONFIG, provider_env, provision, run_on
from tests.fakes.llm import FakeLLM
from tests.support.servers import Server

SECRET_MARK = "test-secret-0123456789"


def sdk(server: Server, path: str = "/v1") -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base + path, api_key=server.admin_key, max_retries=0, timeout=20)


def usage_rows(server: Server, request_id: str, expected: int = 1, seconds: float = 5) -> list:
    """The usage records of one request, once the batch writer has stored them."""

    async def read(rt: Runtime) -> list:
        from sqlalchemy import select

        from dtbot.store.models import UsageRecord

        async with rt.db.session() as session:
            query = select(UsageRecord).where(UsageRecord.request_id == request_id).order_by(UsageRecord.created_at)
            return list(await session.scalars(query))

    deadline = time.monotonic() + seconds
    while True:
        rows = run_on(server.backend, read)
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


@pytest.mark.parametrize("path", ["/v1", ""])
def test_sdk_plain_completion(gateway: Server, path: str) -> None:
    response = sdk(gateway, path).chat.completions.create(
        model="gpt-4", messages=[{"role": "system", "content": "你是助手"}, {"role": "user", "content": "你好"}]
    )
    assert response.object == "chat.completion"
    assert response.model == "gpt-4"
    assert response.choices[0].message.role == "assistant"
    assert response.choices[0].message.content == "Echo: 你好"
    assert response.choices[0].finish_reason == "stop"
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens > 0


def test_sdk_streaming_with_usage(gateway: Server) -> None:
    stream = sdk(gateway).chat.completions.create(
        model="gpt-4",
        messages=[{"role": "user", "content": "stream me [[fake:chunks=5]]"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: stream me"
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) == 5
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")


def test_sse_wire_format_matches_the_document(gateway: Server) -> None:
    with (
        gateway.client() as client,
        client.stream(
            "POST",
            "/chat/completions",
            json={"model": "gpt-4", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
        ) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    assert '"delta":{"role":"assistant"}' in lines[0]
    assert '"object":"chat.completion.chunk"' in lines[1]


@pytest.mark.parametrize(
    ("model", "kind"), [("glm-4", "zhipu"), ("qwen-turbo", "dashscope"), ("claude-3-sonnet", "anthropic")]
)
def test_every_provider_plain_and_streaming(gateway: Server, fake_llm: FakeLLM, model: str, kind: str) -> None:
    client = sdk(gateway)
    fake_llm.clear()
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": f"hello {kind}"}]
    plain = client.chat.completions.create(model=model, messages=messages, max_tokens=100)
    assert plain.choices[0].message.content == f"Echo: hello {kind}"
    assert plain.model == model
    streamed = client.chat.completions.create(model=model, messages=messages, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == f"Echo: hello {kind}"
    bodies = fake_llm.bodies(kind)
    assert len(bodies) == 2
    if kind == "anthropic":
        assert bodies[0]["system"] == "be brief" and bodies[0]["model"] == "claude-3-sonnet-20240229"
    else:
        assert bodies[0]["messages"][0] == {"role": "system", "content": "be brief"}


def test_models_in_both_forms(gateway: Server) -> None:
    with gateway.client() as client:
        body = client.get("/models").json()
    assert body["code"] == 200 and body["message"] == "success"
    models = {m["id"]: m for m in body["data"]["models"]}
    assert {"gpt-4", "gpt-3.5-turbo", "glm-4", "qwen-turbo", "claude-3-sonnet", "flaky", "tiny"} == set(models)
    assert models["gpt-4"] == {
        "id": "gpt-4",
        "name": "GPT-4",
        "provider": "openai",
        "description": "OpenAI最先进的语言模型",
        "max_tokens": 8192,
        "input_price": 0.03,
        "output_price": 0.06,
        "currency": "USD",
        "available": True,
    }
    listed = sdk(gateway).models.list()
    assert {m.id for m in listed.data} == set(models)
    assert {m.owned_by for m in listed.data} == {"openai", "zhipu", "dashscope", "anthropic"}


def test_error_mapping_through_the_sdk(gateway: Server) -> None:
    for path in ("/v1", ""):
        with pytest.raises(openai.BadRequestError) as caught:
            sdk(gateway, path).chat.completions.create(model="gpt-99", messages=[{"role": "user", "content": "x"}])
        assert caught.value.status_code == 400
        assert "模型不支持" in str(caught.value) and caught.value.body["code"] == 40004
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=gateway.base + "/v1", api_key="wrong", max_retries=0).models.list()
    with httpx.Client(base_url=gateway.base) as anonymous:
        bare = anonymous.post("/v1/chat/completions", json={}).json()
    assert set(bare) == {"error"} and bare["error"]["code"] == 40001


def test_bad_request_bodies_name_the_field(gateway: Server) -> None:
    with gateway.client() as client:
        for body, field in [
            ({"model": "gpt-4", "messages": []}, "messages"),
            ({"model": "gpt-4", "messages": [{"role": "wizard", "content": "x"}]}, "role"),
            ({"model": "gpt-4", "messages": [{"role": "user", "content": "x"}], "temperature": 3}, "temperature"),
            ({"model": "gpt-4", "messages": [{"role": "user", "content": "x"}], "n": 2}, "n"),
        ]:
            answer = client.post("/chat/completions", json=body)
            assert answer.status_code == 400 and answer.json()["code"] == 40003, answer.text
            assert field in answer.json()["message"]


def test_token_limits_are_40005(gateway: Server) -> None:
    client = sdk(gateway)
    with pytest.raises(openai.BadRequestError) as over_setting:
        client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "x"}], max_tokens=5000)
    assert over_setting.value.body["code"] == 40005 and "maxTokensPerRequest" in str(over_setting.value)
    with pytest.raises(openai.BadRequestError) as over_context:
        client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "长" * 200}])
    assert over_context.value.body["code"] == 40005 and "context" in str(over_context.value)


def test_provider_failure_is_503_with_its_message_and_no_secret(gateway: Server) -> None:
    with gateway.client() as client:
        answer = client.post(
            "/chat/completions",
            json={"model": "gpt-4", "messages": [{"role": "user", "content": "[[fake:status=401,echo_key]]"}]},
        )
    assert answer.status_code == 503
    body = answer.json()
    assert body["code"] == 50001 and "openai" in body["message"] and "401" in body["message"]
    assert SECRET_MARK not in answer.text
    rows = usage_rows(gateway, answer.headers["x-request-id"])
    assert [(r.status, r.error_code) for r in rows] == [("error", 50001)]


def test_retries_then_fallback_model(gateway: Server, fake_llm: FakeLLM) -> None:
    fake_llm.clear()
    with gateway.client() as client:
        answer = client.post(
            "/chat/completions",
            json={"model": "flaky", "messages": [{"role": "user", "content": "hi [[fake:status=503,times=2]]"}]},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["model"] == "flaky"
    assert [r.kind for r in fake_llm.requests] == ["openai", "openai", "zhipu"]  # one retry, then the fallback
    assert fake_llm.requests[0].body["model"] == "flaky-upstream"
    rows = usage_rows(gateway, answer.headers["x-request-id"], expected=2)
    assert [(r.model, r.provider, r.status) for r in rows] == [("flaky", "openai", "error"), ("glm-4", "zhipu", "ok")]


def test_failure_mid_stream_is_an_error_event(gateway: Server) -> None:
    with (
        gateway.client() as client,
        client.stream(
            "POST",
            "/chat/completions",
            json={
                "model": "gpt-4",
                "stream": True,
                "messages": [{"role": "user", "content": "long answer [[fake:chunks=6,disconnect_after=2]]"}],
            },
        ) as response,
    ):
        assert response.status_code == 200
        lines = [line for line in response.iter_lines() if line]
        request_id = response.headers["x-request-id"]
    assert '"error"' in lines[-1] and "50001" in lines[-1]
    assert "data: [DONE]" not in lines
    rows = usage_rows(gateway, request_id)
    assert rows[0].status == "error" and rows[0].completion_tokens > 0


def test_stream_without_provider_usage_is_counted_locally(gateway: Server) -> None:
    stream = sdk(gateway).chat.completions.create(
        model="gpt-4",
        messages=[{"role": "user", "content": "count me [[fake:no_usage]]"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[-1].usage.completion_tokens == 4  # "Echo: count me" in o200k_base
    assert chunks[-1].usage.prompt_tokens > 0


def test_client_hanging_up_mid_stream_is_recorded(gateway: Server) -> None:
    with (
        gateway.client() as client,
        client.stream(
            "POST",
            "/chat/completions",
            json={
                "model": "gpt-4",
                "stream": True,
                "messages": [{"role": "user", "content": "slow [[fake:chunks=20,chunk_delay=0.2]]"}],
            },
        ) as response,
    ):
        request_id = response.headers["x-request-id"]
        for line in response.iter_lines():
            if '"content"' in line:
                break  # hang up after the first piece of the answer
    rows = usage_rows(gateway, request_id)
    assert len(rows) == 1
    assert rows[0].status == "cancelled" and rows[0].completion_tokens > 0 and rows[0].stream


def test_streaming_can_be_disabled(gateway: Server) -> None:
    with gateway.client() as client:
        client.put("/config", json={"enableStreamResponse": False})
        try:
            refused = client.post(
                "/chat/completions",
                json={"model": "gpt-4", "stream": True, "messages": [{"role": "user", "content": "x"}]},
            )
            plain = client.post(
                "/chat/completions", json={"model": "gpt-4", "messages": [{"role": "user", "content": "x"}]}
            )
        finally:
            client.put("/config", json={"enableStreamResponse": True})
    assert refused.status_code == 400 and refused.json()["code"] == 40003
    assert plain.status_code == 200


def settled_stats(client: httpx.Client) -> dict:
    """`/stats` once earlier calls' usage records have all been written (they are written in batches)."""
    previous = None
    while True:
        current = client.get("/stats").json()["data"]
        if current == previous:
            return current
        previous = current
        time.sleep(UsageRecorder.FLUSH_SECONDS * 1.5)


def test_usage_reaches_stats_with_cost(gateway: Server) -> None:
    with gateway.client() as client:
        before = settled_stats(client)
        answer = client.post(
            "/chat/completions", json={"model": "flaky", "messages": [{"role": "user", "content": "价格"}]}
        )
        rows = usage_rows(gateway, answer.headers["x-request-id"])
        after = client.get("/stats").json()["data"]
    usage = answer.json()["usage"]
    assert after["totalMessages"] == before["totalMessages"] + 1
    assert after["totalTokens"] == before["totalTokens"] + usage["total_tokens"]
    assert rows[0].cost == pytest.approx((usage["prompt_tokens"] * 1.0 + usage["completion_tokens"] * 2.0) / 1000)
    assert rows[0].api_key_id and rows[0].latency_ms > 0


def test_a_clean_shutdown_writes_every_pending_usage_record(tmp_path: Path, fake_llm: FakeLLM) -> None:
    (tmp_path / "config.toml").write_text(GATEWAY_CONFIG)
    with provision("sqlite", tmp_path) as backend:
        server = Server(tmp_path, backend, provider_env(fake_llm)).start()
        try:
            with server.client() as client:
                body = {"model": "gpt-4", "messages": [{"role": "user", "content": "count me"}]}
                ids = [client.post("/chat/completions", json=body).headers["x-request-id"] for _ in range(5)]
        finally:
            server.stop()  # SIGTERM right away: the batch writer has not run yet
        assert "Traceback" not in server.output()
        for request_id in ids:
            assert len(usage_rows(server, request_id, seconds=0)) == 1
