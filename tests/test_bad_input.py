"""Bad input through real HTTP: the envelope with 400 or 413 and a message naming the field, never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import provider_env, started
from tests.fakes.llm import FakeLLM
from tests.support.backends import sqlite_backend
from tests.support.servers import Server
from tests.test_api_auth import assert_error

LIMIT = 64 * 1024  # the body limit the server below is started with
ASK = {"model": "gpt-4", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM) -> Iterator[Server]:
    """A server with a 64 KiB body limit and every provider pointed at the fake upstream."""
    directory: Path = tmp_path_factory.mktemp("bad-input")
    with started(directory, sqlite_backend(directory), MAX_BODY_BYTES=str(LIMIT), **provider_env(fake_llm)) as server:
        yield server


def post_raw(server: Server, path: str, body: bytes) -> httpx.Response:
    with server.client() as client:
        return client.post(path, content=body, headers={"content-type": "application/json"})


def test_a_body_over_the_configured_limit_is_413_with_41301(small: Server) -> None:
    question = {**ASK, "messages": [{"role": "user", "content": "a" * LIMIT}]}
    body = assert_error(post_raw(small, "/chat/completions", json.dumps(question).encode()), 413, 41301)
    assert "请求体过大" in body["message"]


def test_a_chunked_body_over_the_limit_is_413_too(small: Server) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"model":"gpt-4","messages":[{"role":"user","content":"'
        for _ in range(LIMIT // 1024 + 1):
            yield b"a" * 1024
        yield b'"}]}'

    with small.client() as client:
        response = client.post("/chat/completions", content=chunks(), headers={"content-type": "application/json"})
    assert_error(response, 413, 41301)


def test_a_body_under_the_limit_is_answered(small: Server) -> None:
    question = {**ASK, "messages": [{"role": "user", "content": "a" * (LIMIT // 2)}]}
    with small.client() as client:
        response = client.post("/chat/completions", json=question)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"[" * 30_000 + b"]" * 30_000, "body: JSON nested too deeply"),
        (
            b'{"model":"gpt-4","messages":[{"role":"user","content":' + b'{"a":' * 5000 + b"1" + b"}" * 5001 + b"]}",
            "body: JSON nested too deeply",
        ),
        (b'{"model":"gpt-4","messages":[{"role":"user","content":"\xff\xfe"}]}', "body: not valid UTF-8"),
        (b"hello", "JSON is malformed"),
        (b"", "body: a JSON body is required"),
    ],
    ids=["deep", "deep-inside-a-field", "invalid-utf8", "not-json", "empty"],
)
def test_unreadable_bodies_are_400_naming_the_body(small: Server, body: bytes, expected: str) -> None:
    found = assert_error(post_raw(small, "/chat/completions", body), 400, 40003)
    assert expected in found["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"messages": "hi"}, "messages"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
        ({"max_tokens": -5}, "max_tokens"),
        ({"max_tokens": 10**30}, "max_tokens"),
        ({"temperature": 1e308}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"stream": "yes"}, "stream"),
        ({"model": 7}, "model"),
    ],
)
def test_wrong_types_and_absurd_numbers_are_400_naming_the_field(
    small: Server, change: dict[str, object], field: str
) -> None:
    with small.client() as client:
        response = client.post("/chat/completions", json={**ASK, **change})
    code = response.json()["code"]
    assert code in (40003, 40005)  # a max_tokens beyond every model is over the token limit
    found = assert_error(response, 400, code)
    assert f"{field}:" in found["message"] or f"{field} " in found["message"], found["message"]


def test_a_huge_messages_array_within_the_body_limit_is_counted_and_answered(small: Server) -> None:
    question = {**ASK, "messages": [{"role": "user", "content": "hello there"}] * 1000}
    with small.client() as client:
        response = client.post("/chat/completions", json=question)
    assert response.status_code == 200, response.text
    assert response.json()["usage"]["prompt_tokens"] >= 3000


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/conversations", {"page": "0"}, "page"),
        ("/conversations", {"page": str(10**20)}, "page"),
        ("/conversations", {"limit": "-1"}, "limit"),
        ("/conversations", {"limit": "abc"}, "limit"),
    ],
)
def test_bad_query_parameters_name_the_parameter(small: Server, path: str, params: dict, field: str) -> None:
    with small.client() as client:
        found = assert_error(client.get(path, params=params), 400, 40003)
    assert f"{field}:" in found["message"]


def test_other_routes_name_the_field_too(small: Server) -> None:
    with small.client() as client:
        assert "title:" in assert_error(client.post("/conversations", json={"title": 5}), 400, 40003)["message"]
        settings = assert_error(client.put("/config", json={"rateLimitPerMinute": 10**30}), 400, 40003)
        assert "rateLimitPerMinute" in settings["message"]
        assert "role" in assert_error(client.post("/keys", json={"name": "x", "role": "root"}), 400, 40003)["message"]


def test_the_server_is_still_healthy_after_all_of_it(small: Server) -> None:
    assert httpx.get(f"{small.base}/health").status_code == 200
    assert "Traceback" not in small.output()
