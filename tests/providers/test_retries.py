"""The flow every adapter shares: retries before the first byte, never after, timeouts, one pool."""

from __future__ import annotations

import asyncio
import time

import pytest

from dtbot.providers import Delta, ProviderError, Usage
from tests.fakes import FakeLLM, free_port

from .conftest import MakeProvider
from .support import chat, collect, content

KINDS = ["openai", "zhipu", "dashscope", "anthropic"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", [429, 500, 503])
async def test_transient_status_is_retried_until_it_succeeds(
    make_provider: MakeProvider, fake: FakeLLM, kind: str, status: int
) -> None:
    answer = await make_provider(kind, max_retries=2).complete(chat(f"hi [[fake:status={status},times=2]]"))

    assert answer.content == "Echo: hi"
    assert len(fake.requests) == 3


@pytest.mark.parametrize("kind", KINDS)
async def test_stream_is_retried_before_its_first_byte(make_provider: MakeProvider, fake: FakeLLM, kind: str) -> None:
    items = await collect(make_provider(kind, max_retries=2), chat("hi [[fake:status=503,times=1]]"))

    assert content(items) == "Echo: hi"
    assert len(fake.requests) == 2


async def test_retries_stop_at_max_retries_with_the_last_error(make_provider: MakeProvider, fake: FakeLLM) -> None:
    with pytest.raises(ProviderError, match="HTTP 500") as caught:
        await make_provider("openai", max_retries=2).complete(chat("[[fake:status=500]]"))

    assert caught.value.upstream_status == 500 and caught.value.retryable
    assert len(fake.requests) == 3


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("status", [400, 401, 404])
async def test_client_errors_are_not_retried(
    make_provider: MakeProvider, fake: FakeLLM, kind: str, status: int
) -> None:
    with pytest.raises(ProviderError, match=f"HTTP {status}") as caught:
        await make_provider(kind, max_retries=3).complete(chat(f"[[fake:status={status}]]"))

    assert caught.value.upstream_status == status and not caught.value.retryable
    assert len(fake.requests) == 1


async def test_retry_after_is_honoured(make_provider: MakeProvider, fake: FakeLLM) -> None:
    started = time.monotonic()
    await make_provider("openai", retry_backoff=0.001).complete(chat("[[fake:status=429,retry_after=1,times=1]]"))

    assert time.monotonic() - started >= 0.9  # the backoff alone would have waited a millisecond
    assert len(fake.requests) == 2


@pytest.mark.parametrize("kind", KINDS)
async def test_reset_connection_is_retried(make_provider: MakeProvider, fake: FakeLLM, kind: str) -> None:
    items = await collect(make_provider(kind), chat("hi [[fake:reset,times=2]]"))

    assert content(items) == "Echo: hi"
    assert len(fake.requests) == 3


async def test_body_cut_short_is_retried_for_a_whole_answer(make_provider: MakeProvider, fake: FakeLLM) -> None:
    answer = await make_provider("openai").complete(chat("hi [[fake:disconnect_after=0,times=1]]"))

    assert answer.content == "Echo: hi"
    assert len(fake.requests) == 2


async def test_refused_connection_fails_as_transient_after_the_retries(make_provider: MakeProvider) -> None:
    provider = make_provider("openai", base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=2)

    with pytest.raises(ProviderError, match="connection failed") as caught:
        await provider.complete(chat())

    assert caught.value.transient and caught.value.upstream_status is None


async def test_refused_connection_is_retried_until_the_server_is_up(make_provider: MakeProvider) -> None:
    late = FakeLLM(free_port())
    provider = make_provider("openai", base_url=late.base_url("openai"), max_retries=6, retry_backoff=0.1)

    async def start_later() -> None:
        await asyncio.sleep(0.15)
        await late.start()

    starter = asyncio.create_task(start_later())
    try:
        answer = await provider.complete(chat("hi"))
    finally:
        await starter
        await late.stop()

    assert answer.content == "Echo: hi"
    assert len(late.requests) == 1  # the earlier tries never reached it


@pytest.mark.parametrize("kind", KINDS)
async def test_disconnect_after_the_first_byte_is_not_retried(
    make_provider: MakeProvider, fake: FakeLLM, kind: str
) -> None:
    received: list[Delta | Usage] = []
    with pytest.raises(ProviderError, match="connection failed") as caught:
        await collect(make_provider(kind, max_retries=3), chat("hi [[fake:disconnect_after=2]]"), received)

    assert received, "part of the answer arrived before the cut"
    assert not caught.value.before_output and not caught.value.retryable
    assert len(fake.requests) == 1


async def test_error_event_after_output_is_not_retried(make_provider: MakeProvider, fake: FakeLLM) -> None:
    with pytest.raises(ProviderError, match="Overloaded") as caught:
        await collect(make_provider("anthropic", max_retries=3), chat("hi [[fake:inband_error,error_after=3]]"))

    assert caught.value.transient and not caught.value.retryable
    assert len(fake.requests) == 1


async def test_error_event_before_output_is_retried_when_transient(make_provider: MakeProvider, fake: FakeLLM) -> None:
    items = await collect(make_provider("anthropic"), chat("hi [[fake:inband_error,times=1]]"))

    assert content(items) == "Echo: hi"
    assert len(fake.requests) == 2


async def test_slow_response_headers_hit_the_first_token_timeout(make_provider: MakeProvider, fake: FakeLLM) -> None:
    provider = make_provider("openai", first_token_timeout=0.2, max_retries=1)

    with pytest.raises(ProviderError, match="timed out") as caught:
        await collect(provider, chat("[[fake:delay=2]]"))

    assert caught.value.retryable
    assert len(fake.requests) == 2


async def test_slow_first_chunk_after_the_headers_hits_the_first_token_timeout(
    make_provider: MakeProvider, fake: FakeLLM
) -> None:
    provider = make_provider("openai", first_token_timeout=0.2, max_retries=0)

    with pytest.raises(ProviderError, match="timed out"):
        await collect(provider, chat("[[fake:chunk_delay=2]]"))

    assert len(fake.requests) == 1


async def test_slow_first_byte_within_the_timeout_is_fine(make_provider: MakeProvider) -> None:
    items = await collect(make_provider("openai", first_token_timeout=5), chat("hi [[fake:delay=0.2]]"))

    assert content(items) == "Echo: hi"


async def test_whole_answer_is_bounded_by_the_total_timeout(make_provider: MakeProvider, fake: FakeLLM) -> None:
    provider = make_provider("openai", total_timeout=0.2, max_retries=0)

    with pytest.raises(ProviderError, match="timed out"):
        await provider.complete(chat("[[fake:delay=2]]"))


@pytest.mark.parametrize("kind", KINDS)
async def test_one_pooled_connection_serves_successive_calls(
    make_provider: MakeProvider, fake: FakeLLM, kind: str
) -> None:
    provider = make_provider(kind)

    await provider.complete(chat("one"))
    await collect(provider, chat("two"))
    await provider.complete(chat("three"))

    assert len({r.peer_port for r in fake.requests}) == 1


async def test_close_releases_the_pool_and_a_later_call_opens_a_new_one(
    make_provider: MakeProvider, fake: FakeLLM
) -> None:
    provider = make_provider("openai")

    await provider.complete(chat("one"))
    await provider.close()
    await provider.complete(chat("two"))

    first, second = fake.requests
    assert first.peer_port != second.peer_port


async def test_stream_abandoned_midway_leaves_the_pool_usable(make_provider: MakeProvider, fake: FakeLLM) -> None:
    provider = make_provider("openai")
    stream = provider.stream(chat("hi [[fake:chunks=5,chunk_delay=0.05]]"))
    first = await anext(stream)
    await stream.aclose()  # what a client hanging up does

    assert isinstance(first, Delta) and first.content
    assert (await provider.complete(chat("again"))).content == "Echo: again"
    assert fake.requests[0].peer_port != fake.requests[1].peer_port  # the unfinished connection was not reused
