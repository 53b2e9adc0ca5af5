"""`/api/health`, `/api/stats` and `/api/config` through real HTTP on both backends."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from dtbot.clock import utcnow
from dtbot.services.usage import STATUS_ERROR, UsageEntry
from tests.conftest import run_on
from tests.support.servers import Server
from tests.test_api_auth import ISO_WITH_OFFSET, assert_error


def test_health_has_the_documents_shape(server: Server) -> None:
    response = httpx.get(f"{server.base}/health")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "timestamp", "version", "services", "uptime"}
    assert body["status"] == "healthy"
    assert ISO_WITH_OFFSET.match(body["timestamp"]) and body["timestamp"].endswith("+08:00")
    assert body["services"]["database"] == "healthy"
    expected_redis = "healthy" if server.backend.redis_url else "disabled"
    assert body["services"]["redis"] == expected_redis
    assert body["services"]["llm_providers"] == {
        "openai": "unconfigured",
        "zhipu": "unconfigured",
        "dashscope": "unconfigured",
        "anthropic": "unconfigured",
    }
    assert isinstance(body["uptime"], int) and body["uptime"] >= 0


def _entries() -> list[UsageEntry]:
    now = utcnow()
    yesterday = now - timedelta(days=2)
    return [
        *(
            UsageEntry(model="gpt-4", provider="openai", user_id="alice", prompt_tokens=10, completion_tokens=5)
            for _ in range(3)
        ),
        UsageEntry(model="glm-4", provider="zhipu", user_id="bob", prompt_tokens=100, completion_tokens=20),
        UsageEntry(
            model="glm-4",
            provider="zhipu",
            api_key_id="key_x",
            prompt_tokens=1,
            completion_tokens=1,
            created_at=yesterday,
        ),
        UsageEntry(
            model="qwen-turbo", provider="dashscope", user_id="alice", status=STATUS_ERROR, created_at=yesterday
        ),
    ]


def test_stats_are_computed_from_usage_records(server: Server) -> None:
    with server.client() as admin:
        before = admin.get("/stats").json()["data"]
        run_on(server.backend, lambda rt: rt.usage.record(_entries()))
        response = admin.get("/stats")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 200 and body["message"] == "success"
    data = body["data"]
    assert data["totalMessages"] - before["totalMessages"] == 6
    assert data["todayMessages"] - before["todayMessages"] == 4
    assert data["totalTokens"] - before["totalTokens"] == 3 * 15 + 120 + 2
    assert data["todayTokens"] - before["todayTokens"] == 3 * 15 + 120
    assert data["totalUsers"] - before["totalUsers"] == 3  # alice, bob, and a key without a user
    assert data["totalConversations"] == 0
    assert data["modelUsage"] == {"gpt-4": 50, "glm-4": 33, "qwen-turbo": 17}
    assert sum(data["modelUsage"].values()) == 100


def test_config_defaults_come_from_the_configuration(server: Server) -> None:
    with server.client() as admin:
        body = admin.get("/config").json()
    assert body["code"] == 200
    assert body["data"] == {
        "maxTokensPerRequest": 4000,
        "defaultModel": "gpt-3.5-turbo",
        "rateLimitPerMinute": 100000,  # API_RATE_LIMIT in the server's environment
        "enableStreamResponse": True,
        "enableLogging": True,
        "logLevel": "info",
    }


@pytest.mark.parametrize(
    ("change", "code", "named"),
    [
        ({"maxTokensPerRequest": 0}, 40003, "maxTokensPerRequest"),
        ({"maxTokensPerRequest": "many"}, 40003, "maxTokensPerRequest"),
        ({"rateLimitPerMinute": 1.5}, 40003, "rateLimitPerMinute"),
        ({"enableStreamResponse": "yes"}, 40003, "enableStreamResponse"),
        ({"logLevel": "loud"}, 40003, "logLevel"),
        ({"colour": "blue"}, 40003, "colour"),
        ({}, 40003, "body"),
        ({"defaultModel": "gpt-99"}, 40004, "defaultModel"),
    ],
)
def test_config_put_rejects_bad_values_naming_the_key(server: Server, change: dict, code: int, named: str) -> None:
    with server.client() as admin:
        before = admin.get("/config").json()["data"]
        body = assert_error(admin.put("/config", json=change), 400, code)
        after = admin.get("/config").json()["data"]
    assert named in body["message"]
    assert after == before


def test_config_put_persists_and_applies(server: Server) -> None:
    change = {"maxTokensPerRequest": 8000, "defaultModel": "gpt-4", "logLevel": "warning"}
    with server.client() as admin:
        response = admin.put("/config", json=change)
        assert response.status_code == 200
        assert response.json()["data"] | change == response.json()["data"]
        assert admin.get("/config").json()["data"] | change == admin.get("/config").json()["data"]
    stored = run_on(server.backend, lambda rt: rt.settings.load())
    assert (stored.max_tokens_per_request, stored.default_model, stored.log_level) == (8000, "gpt-4", "warning")
