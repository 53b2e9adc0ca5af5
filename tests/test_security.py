"""Security through real HTTP: response headers, CORS, OPTIONS without a key, and secrets nowhere in answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import provider_env, started
from tests.fakes.llm import FakeLLM
from tests.support.backends import sqlite_backend
from tests.support.servers import Server

ORIGIN = "https://portal.example.com"
SECRETS = {
    "DINGTALK_APP_SECRET": "SECapp-secret-do-not-show-7f3a",
    "DINGTALK_WEBHOOK_SECRET": "SECwebhook-secret-do-not-show-91b2",
    "JWT_SECRET": "jwt-secret-do-not-show-c0ffee",
}


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM) -> Iterator[Server]:
    """A server with default settings (CORS off) and every secret set."""
    directory: Path = tmp_path_factory.mktemp("security")
    with started(directory, sqlite_backend(directory), **SECRETS, **provider_env(fake_llm)) as server:
        yield server


@pytest.fixture(scope="module")
def cors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that admits browsers from ORIGIN."""
    directory: Path = tmp_path_factory.mktemp("security-cors")
    with started(directory, sqlite_backend(directory), CORS_ORIGINS=ORIGIN) as server:
        yield server


def preflight(server: Server, path: str, origin: str) -> httpx.Response:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    return httpx.options(f"{server.base}{path}", headers=headers)


@pytest.mark.parametrize(("path", "status"), [("/health", 200), ("/stats", 401), ("/nowhere", 404)])
def test_every_answer_carries_the_security_headers(plain: Server, path: str, status: int) -> None:
    response = httpx.get(f"{plain.base}{path}")
    assert response.status_code == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.headers["cache-control"] == "no-store"


def test_the_swagger_page_can_load_its_scripts(plain: Server) -> None:
    response = httpx.get(f"{plain.base}/schema/swagger")
    assert response.status_code == 200
    assert "content-security-policy" not in response.headers
    assert response.headers["x-frame-options"] == "DENY"


def test_cors_is_off_by_default(plain: Server) -> None:
    answer = preflight(plain, "/models", ORIGIN)
    assert "access-control-allow-origin" not in answer.headers
    with plain.client() as client:
        assert "access-control-allow-origin" not in client.get("/models", headers={"Origin": ORIGIN}).headers


def test_cors_admits_the_configured_origin_only(cors: Server) -> None:
    allowed = preflight(cors, "/models", ORIGIN)
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
    refused = preflight(cors, "/models", "https://evil.example.com")
    assert "access-control-allow-origin" not in refused.headers


def test_cors_does_not_replace_the_api_key(cors: Server) -> None:
    response = httpx.get(f"{cors.base}/models", headers={"Origin": ORIGIN})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == ORIGIN  # so the page can read the error
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize("path", ["/stats", "/config", "/keys", "/keys/key_0"])
def test_options_needs_no_key_and_reveals_nothing(plain: Server, path: str) -> None:
    response = httpx.options(f"{plain.base}{path}")
    assert response.status_code == 204
    assert not response.content


def test_no_answer_shows_a_secret(plain: Server) -> None:
    secrets = [*SECRETS.values(), *(v for k, v in plain.env.items() if k.endswith("_API_KEY"))]
    with plain.client() as client:
        answers = [
            client.get("/config"),
            client.get("/health"),
            client.get("/models"),
            client.get("/stats"),
            client.get("/keys"),
            client.get("/schema/openapi.json"),
            client.post("/chat/completions", json={"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}),
            client.post("/dingtalk/send", json={"webhook": "https://example.com/robot/send?access_token=t"}),
            httpx.post(f"{plain.base}/dingtalk/webhook", content=b"{}", headers={"timestamp": "1", "sign": "x"}),
        ]
    for response in answers:
        for secret in secrets:
            assert secret not in response.text, f"{response.request.url.path} showed a secret"
