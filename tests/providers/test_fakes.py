"""The fake LLM itself: a client nobody here wrote understands it, and it runs in a thread or a process."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import openai
import pytest

from tests.fakes import FakeLLM

OPENAI_LIKE = ["openai", "zhipu", "dashscope"]


@pytest.fixture(scope="module")
def threaded_fake() -> Iterator[FakeLLM]:
    with FakeLLM.in_thread() as fake:
        yield fake


@pytest.mark.parametrize("kind", OPENAI_LIKE)
def test_official_sdk_reads_the_fake_answer(threaded_fake: FakeLLM, kind: str) -> None:
    client = openai.OpenAI(api_key="sk-fake", base_url=threaded_fake.base_url(kind), max_retries=0)

    answer = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])

    assert answer.choices[0].message.content == "Echo: hi"
    assert answer.usage is not None and answer.usage.completion_tokens == len("Echo: hi")


@pytest.mark.parametrize("kind", OPENAI_LIKE)
def test_official_sdk_reads_the_fake_stream_and_its_usage(threaded_fake: FakeLLM, kind: str) -> None:
    client = openai.OpenAI(api_key="sk-fake", base_url=threaded_fake.base_url(kind), max_retries=0)

    chunks = list(
        client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "hi [[fake:crlf,keepalive,multiline]]"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: hi"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == len("Echo: hi")


def test_official_sdk_sees_the_fake_errors(threaded_fake: FakeLLM) -> None:
    client = openai.OpenAI(api_key="sk-fake", base_url=threaded_fake.base_url("openai"), max_retries=0)

    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "[[fake:status=429]]"}])

    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.response.headers.get("content-type", "").startswith("application/json")


def test_unknown_option_is_refused_by_name(threaded_fake: FakeLLM) -> None:
    client = openai.OpenAI(api_key="sk-fake", base_url=threaded_fake.base_url("openai"), max_retries=0)

    with pytest.raises(openai.BadRequestError, match="unknown fake option 'staus'"):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "[[fake:staus=500]]"}])


def test_process_prints_its_urls_and_lists_what_it_received() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.llm", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        urls = json.loads(process.stdout.readline())
        assert set(urls) == {"openai", "zhipu", "dashscope", "anthropic"}
        client = openai.OpenAI(api_key="sk-fake", base_url=urls["openai"], max_retries=0)
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])

        root = urls["openai"].removesuffix("/openai/v1")
        with urllib.request.urlopen(f"{root}/_fake/requests", timeout=10) as response:
            [recorded] = json.load(response)
        assert recorded["body"]["messages"] == [{"role": "user", "content": "hi"}]
        assert recorded["headers"]["authorization"] == "Bearer sk-fake"
    finally:
        process.terminate()
        process.wait(10)
