"""Provider faults through a running server: the right code, a usage record saying so, bounded time, health.

Each fault is switched on in the fake upstream by a marker in the question
(`tests/fakes/script.py`), or by a provider whose port has nobody listening.
The server is configured with short timeouts so that "never answers" is
measured in seconds: one retry, a 1 s first-token timeout (streams), 2 s per
attempt in total (a non-stream answer has no first token before its end).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import provider_env, started
from tests.fakes.llm import FakeLLM
from tests.support.backends import sqlite_backend
from tests.support.servers import Server, free_port
from tests.test_gateway import usage_rows

CONFIG = """
[providers.openai]
max_retries = 1
retry_backoff = 0.05
first_token_timeout = 1
total_timeout = 2
[providers.dead]
kind = "openai"
api_key = "sk-dead-0123456789"
base_url = "http://127.0.0.1:{dead_port}/v1"
max_retries = 1
retry_backoff = 0.05
connect_timeout = 1
[models.solo]
provider = "openai"
[models.nowhere]
provider = "dead"
"""
BUDGET = 8.0  # seconds: two attempts of at most 2 s, the backoff or a 1 s Retry-After, and room for a busy machine


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM) -> Iterator[Server]:
    """A server whose `solo` model has no fallback and whose `nowhere` model's provider refuses connections."""
    directory: Path = tmp_path_factory.mktemp("provider-faults")
    (directory / "config.toml").write_text(CONFIG.format(dead_port=free_port()))
    with started(directory, sqlite_backend(directory), **provider_env(fake_llm)) as server:
        yield server


def ask(server: Server, text: str, model: str = "solo") -> tuple[httpx.Response, float]:
    started_at = time.monotonic()
    with server.client() as client:
        question = {"model": model, "messages": [{"role": "user", "content": text}]}
        response = client.post("/chat/completions", json=question)
    return response, time.monotonic() - started_at


@pytest.mark.parametrize(
    ("text", "model", "mentions"),
    [
        ("refused", "nowhere", "connection failed"),
        ("[[fake:reset]]", "solo", "openai"),
        ("[[fake:status=429,retry_after=1]]", "solo", "429"),
        ("[[fake:status=500]]", "solo", "500"),
        ("[[fake:delay=30]]", "solo", "timed out"),
        ("[[fake:malformed_json]]", "solo", "openai"),
        ("[[fake:inband_error]]", "solo", "openai"),
    ],
    ids=["connection-refused", "reset", "429-retry-after", "500s", "no-first-byte", "malformed-json", "error-in-200"],
)
def test_a_failing_provider_is_50001_recorded_and_bounded(faulty: Server, text: str, model: str, mentions: str) -> None:
    response, elapsed = ask(faulty, text, model)
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["code"] == 50001 and mentions in body["message"]
    assert elapsed < BUDGET
    rows = usage_rows(faulty, response.headers["x-request-id"])
    assert [(row.status, row.error_code) for row in rows] == [("error", 50001)]
    assert httpx.get(f"{faulty.base}/health").status_code == 200


def test_a_retry_after_is_honoured_before_the_retry(faulty: Server, fake_llm: FakeLLM) -> None:
    response, elapsed = ask(faulty, "[[fake:status=429,retry_after=1,times=1]] once more")
    assert response.status_code == 200, response.text
    assert elapsed >= 1.0


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("[[fake:malformed_sse]]", "malformed-sse"),
        ("[[fake:inband_error,error_after=1]]", "error-in-200-stream"),
        ("[[fake:chunks=6,disconnect_after=2]]", "reset-mid-stream"),
        ("[[fake:chunks=4,chunk_delay=3]]", "stall-mid-stream"),
        ("[[fake:delay=30]]", "no-first-byte"),
    ],
)
def test_a_stream_that_goes_wrong_ends_in_an_error_event_for_the_sdk(faulty: Server, text: str, ids: str) -> None:
    client = openai.OpenAI(base_url=faulty.base + "/v1", api_key=faulty.admin_key, max_retries=0, timeout=20)
    started_at = time.monotonic()
    with pytest.raises(openai.APIError) as caught:
        for _ in client.chat.completions.create(
            model="solo", messages=[{"role": "user", "content": text}], stream=True
        ):
            pass
    assert time.monotonic() - started_at < BUDGET
    assert str(caught.value.code) == "50001", caught.value.body  # the SDK keeps the code as text
    assert httpx.get(f"{faulty.base}/health").status_code == 200
