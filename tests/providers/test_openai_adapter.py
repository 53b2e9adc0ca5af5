"""The OpenAI adapter against the fake's OpenAI dialect."""

from __future__ import annotations

import msgspec
import pytest

from dtbot.providers import Delta, ProviderError, Usage
from tests.fakes import FakeLLM

from .conftest import MakeProvider
from .support import API_KEY, chat, collect, content, usages

WEATHER_TOOL = {
    "type": "function",
    "function": {"name": "lookup", "description": "Look it up", "parameters": {"type": "object", "properties": {}}},
}


async def test_complete_returns_the_answer_and_usage(make_provider: MakeProvider, fake: FakeLLM) -> None:
    answer = await make_provider("openai").complete(chat("hello", system="be brief"))

    assert answer.content == "Echo: hello"
    assert answer.finish_reason == "stop"
    assert answer.usage == Usage(prompt_tokens=13, completion_tokens=11, total_tokens=24)
    [sent] = fake.requests
    assert sent.path == "/openai/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.body == {
        "model": "fake-model",
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}],
    }


async def test_request_fields_are_sent_as_given_and_unset_ones_left_out(
    make_provider: MakeProvider, fake: FakeLLM
) -> None:
    await make_provider("openai").complete(chat(temperature=0, max_tokens=50, stop=["\n"], seed=7, user="u1"))

    body = fake.bodies()[0]
    assert {k: body[k] for k in ("temperature", "max_tokens", "stop", "seed", "user")} == {
        "temperature": 0,
        "max_tokens": 50,
        "stop": ["\n"],
        "seed": 7,
        "user": "u1",
    }
    assert "top_p" not in body and "tools" not in body


async def test_stream_yields_deltas_then_usage_and_asks_for_it(make_provider: MakeProvider, fake: FakeLLM) -> None:
    items = await collect(make_provider("openai"), chat("hello [[fake:chunks=4]]"))

    deltas = [i for i in items if isinstance(i, Delta)]
    assert [d.content for d in deltas[:-1]] == ["Ech", "o: ", "hel", "lo"]
    assert deltas[0].role == "assistant" and all(d.role is None for d in deltas[1:])
    assert deltas[-1].finish_reason == "stop"
    assert items[-1] == Usage(prompt_tokens=23, completion_tokens=11, total_tokens=34)
    assert fake.bodies()[0]["stream"] is True
    assert fake.bodies()[0]["stream_options"] == {"include_usage": True}


async def test_stream_without_usage_from_upstream_yields_no_usage(make_provider: MakeProvider) -> None:
    items = await collect(make_provider("openai"), chat("hi [[fake:no_usage]]"))

    assert content(items) == "Echo: hi"
    assert usages(items) == []


async def test_stream_framing_variants_decode_to_the_same_answer(make_provider: MakeProvider) -> None:
    items = await collect(make_provider("openai"), chat("hi [[fake:crlf,keepalive,multiline,split=3]]"))

    assert content(items) == "Echo: hi"
    assert len(usages(items)) == 1


async def test_reasoning_content_is_passed_on(make_provider: MakeProvider) -> None:
    provider = make_provider("openai")
    answer = await provider.complete(chat("why [[fake:reasoning]]"))
    items = await collect(provider, chat("why [[fake:reasoning]]"))

    assert answer.reasoning_content == "Thinking about: why"
    assert "".join(i.reasoning_content for i in items if isinstance(i, Delta) and i.reasoning_content) == (
        "Thinking about: why"
    )


async def test_tool_calls_come_back_whole_and_as_deltas(make_provider: MakeProvider) -> None:
    provider = make_provider("openai")
    request = chat("rain? [[fake:tool]]", tools=[WEATHER_TOOL])

    answer = await provider.complete(request)
    items = await collect(provider, request)

    assert answer.finish_reason == "tool_calls"
    assert answer.tool_calls is not None
    assert answer.tool_calls[0]["function"] == {"name": "lookup", "arguments": '{"text": "rain?"}'}
    calls = [c for i in items if isinstance(i, Delta) and i.tool_calls for c in i.tool_calls]
    assert calls[0]["id"] == "call_fake0" and calls[0]["function"]["name"] == "lookup"
    assert "".join(c["function"]["arguments"] for c in calls) == '{"text": "rain?"}'
    assert [i.finish_reason for i in items if isinstance(i, Delta) and i.finish_reason] == ["tool_calls"]


async def test_error_object_in_a_200_body_is_a_provider_error(make_provider: MakeProvider, fake: FakeLLM) -> None:
    with pytest.raises(ProviderError, match="The server had an error") as caught:
        await make_provider("openai", max_retries=0).complete(chat("[[fake:inband_error]]"))

    assert caught.value.upstream_status is None
    assert len(fake.requests) == 1


async def test_error_object_after_output_in_a_200_stream_is_not_retryable(
    make_provider: MakeProvider, fake: FakeLLM
) -> None:
    received: list[Delta | Usage] = []
    with pytest.raises(ProviderError, match="The server had an error") as caught:
        await collect(make_provider("openai"), chat("[[fake:inband_error,error_after=2]]"), received)

    assert content(received) == "Echo"  # two of the chunks "Ec", "ho", ": "
    assert not caught.value.retryable and not caught.value.before_output
    assert len(fake.requests) == 1


async def test_malformed_json_body_is_a_clear_error_and_not_retried(make_provider: MakeProvider, fake: FakeLLM) -> None:
    with pytest.raises(ProviderError, match="malformed response"):
        await make_provider("openai").complete(chat("[[fake:malformed_json]]"))

    assert len(fake.requests) == 1


async def test_malformed_json_in_a_stream_is_a_clear_error(make_provider: MakeProvider) -> None:
    with pytest.raises(ProviderError, match="malformed response") as caught:
        await collect(make_provider("openai"), chat("[[fake:malformed_json]]"))

    assert not caught.value.before_output  # the first content chunk was already handed on


async def test_stream_that_is_not_server_sent_events_is_a_clear_error(
    make_provider: MakeProvider, fake: FakeLLM
) -> None:
    with pytest.raises(ProviderError, match="not an event stream line"):
        await collect(make_provider("openai"), chat("[[fake:malformed_sse]]"))

    assert len(fake.requests) == 1


async def test_json_answer_to_a_stream_request_is_an_error_not_an_empty_stream(make_provider: MakeProvider) -> None:
    with pytest.raises(ProviderError, match="expected an event stream, got application/json"):
        await collect(make_provider("openai"), chat("[[fake:ignore_stream]]"))


async def test_no_key_sends_no_authorization_header(make_provider: MakeProvider, fake: FakeLLM) -> None:
    with pytest.raises(ProviderError, match="HTTP 401") as caught:
        await make_provider("openai", api_key="").complete(chat())

    assert "authorization" not in fake.requests[0].headers
    assert caught.value.upstream_status == 401 and not caught.value.retryable
    assert len(fake.requests) == 1


async def test_api_key_never_reaches_a_body_or_an_error_message(make_provider: MakeProvider, fake: FakeLLM) -> None:
    with pytest.raises(ProviderError) as caught:
        await make_provider("openai").complete(chat("[[fake:status=401,echo_key]]"))

    assert API_KEY in fake.requests[0].headers["authorization"]  # the fake did see it, and quoted it back
    assert API_KEY not in caught.value.message and API_KEY not in str(caught.value)
    assert "Incorrect API key provided: ***" in caught.value.message
    assert API_KEY not in msgspec.json.encode(fake.bodies()).decode()


def test_error_messages_cut_out_bearer_tokens_and_sk_keys(make_provider: MakeProvider) -> None:
    provider = make_provider("openai", api_key="local")  # too short to replace literally

    error = provider.error("sent Authorization: Bearer abc.DEF-123 and key sk-other-0123456789 for local")  # type: ignore[attr-defined]

    assert error.message == "openai: sent Authorization: Bearer *** and key sk-*** for local"
