"""The Anthropic adapter: OpenAI requests translated to the Messages API and its answers translated back."""

from __future__ import annotations

import json

import pytest

from dtbot.errors import InvalidParameter
from dtbot.providers import ChatRequest, Delta, ProviderError, Usage
from tests.fakes import FakeLLM

from .conftest import MakeProvider
from .support import API_KEY, chat, collect, content

TOOL = {
    "type": "function",
    "function": {
        "name": "lookup",
        "description": "Look a word up",
        "parameters": {"type": "object", "properties": {"text": {"type": "string"}}},
    },
}


async def test_complete_lifts_the_system_prompt_and_fills_max_tokens(
    make_provider: MakeProvider, fake: FakeLLM
) -> None:
    answer = await make_provider("anthropic").complete(chat("hello", system="be brief"))

    assert answer.content == "Echo: hello"
    assert answer.finish_reason == "stop"
    assert answer.usage == Usage(prompt_tokens=13, completion_tokens=11, total_tokens=24)
    [sent] = fake.requests
    assert sent.path == "/anthropic/v1/messages"
    assert sent.headers["x-api-key"] == API_KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in sent.headers
    assert sent.body == {
        "model": "fake-model",
        "max_tokens": 4096,
        "system": "be brief",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hello"}]}],
    }


async def test_parameters_are_translated_or_left_out(make_provider: MakeProvider, fake: FakeLLM) -> None:
    request = chat("hi", temperature=1.5, top_p=0.5, max_tokens=99, stop="END", user="u-1", seed=1, presence_penalty=1)
    await make_provider("anthropic").complete(request)

    body = fake.bodies()[0]
    assert body["temperature"] == 1.0  # OpenAI allows up to 2, Anthropic up to 1
    assert body["top_p"] == 0.5
    assert body["max_tokens"] == 99
    assert body["stop_sequences"] == ["END"]
    assert body["metadata"] == {"user_id": "u-1"}
    assert not {"stop", "user", "seed", "presence_penalty"} & set(body)


async def test_conversation_turns_are_merged_to_alternate(make_provider: MakeProvider, fake: FakeLLM) -> None:
    messages = [
        {"role": "system", "content": "rule one"},
        {"role": "user", "content": "first"},
        {"role": "user", "content": [{"type": "text", "text": "second"}]},
        {"role": "assistant", "content": "answer"},
        {"role": "system", "content": "rule two"},
        {"role": "user", "content": "third"},
    ]
    answer = await make_provider("anthropic").complete(ChatRequest(model="m", messages=messages))

    assert answer.content == "Echo: third"  # the fake refuses turns that do not alternate
    body = fake.bodies()[0]
    assert body["system"] == "rule one\n\nrule two"
    assert [(m["role"], [b["text"] for b in m["content"]]) for m in body["messages"]] == [
        ("user", ["first", "second"]),
        ("assistant", ["answer"]),
        ("user", ["third"]),
    ]


async def test_image_parts_become_image_blocks(make_provider: MakeProvider, fake: FakeLLM) -> None:
    parts = [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
    ]
    await make_provider("anthropic").complete(ChatRequest(model="m", messages=[{"role": "user", "content": parts}]))

    blocks = fake.bodies()[0]["messages"][0]["content"]
    assert blocks[1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
    }
    assert blocks[2] == {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}


async def test_tools_and_tool_turns_are_translated_both_ways(make_provider: MakeProvider, fake: FakeLLM) -> None:
    messages = [
        {"role": "user", "content": "look up cat"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "toolu_1", "type": "function", "function": {"name": "lookup", "arguments": '{"text": "cat"}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "a small feline"},
        {"role": "user", "content": "and dog? [[fake:tool]]"},
    ]
    request = ChatRequest(model="m", messages=messages, tools=[TOOL], tool_choice="required")
    answer = await make_provider("anthropic").complete(request)

    body = fake.bodies()[0]
    assert body["tools"] == [
        {"name": "lookup", "description": "Look a word up", "input_schema": TOOL["function"]["parameters"]}
    ]
    assert body["tool_choice"] == {"type": "any"}
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"text": "cat"}}
    ]
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "a small feline"},
        {"type": "text", "text": "and dog? [[fake:tool]]"},
    ]
    assert answer.finish_reason == "tool_calls"
    assert answer.content is None
    assert answer.tool_calls is not None
    [call] = answer.tool_calls
    assert call["id"] == "toolu_fake0" and call["type"] == "function"
    assert call["function"]["name"] == "lookup"
    assert json.loads(call["function"]["arguments"]) == {"text": "and dog?"}


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ({"type": "function", "function": {"name": "lookup"}}, {"type": "tool", "name": "lookup"}),
    ],
)
async def test_tool_choice_is_translated(
    make_provider: MakeProvider, fake: FakeLLM, choice: object, sent: dict
) -> None:
    await make_provider("anthropic").complete(chat("hi", tools=[TOOL], tool_choice=choice))

    assert fake.bodies()[0]["tool_choice"] == sent


@pytest.mark.parametrize(
    "request_",
    [
        chat("hi", tools=[{"type": "code_interpreter"}]),
        ChatRequest(model="m", messages=[{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]),
        ChatRequest(model="m", messages=[{"role": "function", "content": "x"}]),
        ChatRequest(
            model="m",
            messages=[{"role": "assistant", "tool_calls": [{"id": "1", "function": {"name": "f", "arguments": "[1"}}]}],
        ),
    ],
    ids=["non-function tool", "audio part", "function role", "arguments not an object"],
)
async def test_what_cannot_be_translated_is_an_invalid_parameter_and_sends_nothing(
    make_provider: MakeProvider, fake: FakeLLM, request_: ChatRequest
) -> None:
    with pytest.raises(InvalidParameter) as caught:
        await make_provider("anthropic").complete(request_)

    assert caught.value.code == 40003
    assert fake.requests == []


async def test_stream_events_become_deltas_and_usage(make_provider: MakeProvider, fake: FakeLLM) -> None:
    items = await collect(make_provider("anthropic"), chat("hello [[fake:reasoning,chunks=2]]", system="sys"))

    deltas = [i for i in items if isinstance(i, Delta)]
    assert deltas[0].role == "assistant"
    assert "".join(d.reasoning_content or "" for d in deltas) == "Thinking about: hello"
    assert [d.content for d in deltas if d.content] == ["Echo: ", "hello"]
    assert deltas[-1].finish_reason == "stop"
    assert items[-1] == Usage(prompt_tokens=3 + 33, completion_tokens=11 + 21)
    assert fake.bodies()[0]["stream"] is True


async def test_streamed_tool_use_becomes_tool_call_deltas(make_provider: MakeProvider) -> None:
    items = await collect(make_provider("anthropic"), chat("find cat [[fake:tool]]", tools=[TOOL]))

    calls = [c for i in items if isinstance(i, Delta) and i.tool_calls for c in i.tool_calls]
    assert calls[0] == {
        "index": 0,
        "id": "toolu_fake0",
        "type": "function",
        "function": {"name": "lookup", "arguments": ""},
    }
    assert all(c["index"] == 0 for c in calls)
    assert json.loads("".join(c["function"]["arguments"] for c in calls)) == {"text": "find cat"}
    assert [i.finish_reason for i in items if isinstance(i, Delta) and i.finish_reason] == ["tool_calls"]


async def test_max_tokens_stop_becomes_length(make_provider: MakeProvider) -> None:
    provider = make_provider("anthropic")
    answer = await provider.complete(chat("a long question", max_tokens=4))
    items = await collect(provider, chat("a long question", max_tokens=4))

    assert answer.content == "Echo" and answer.finish_reason == "length"
    assert content(items) == "Echo" and items[-2].finish_reason == "length"


async def test_overloaded_529_is_retried(make_provider: MakeProvider, fake: FakeLLM) -> None:
    answer = await make_provider("anthropic").complete(chat("hi [[fake:status=529,times=1]]"))

    assert answer.content == "Echo: hi"
    assert len(fake.requests) == 2


async def test_error_body_gives_the_error_type_and_message(make_provider: MakeProvider) -> None:
    with pytest.raises(ProviderError, match=r"HTTP 400: fake HTTP 400 \(invalid_request_error\)") as caught:
        await make_provider("anthropic").complete(chat("[[fake:status=400]]"))

    assert caught.value.upstream_status == 400


async def test_stream_cut_before_message_stop_is_an_error(make_provider: MakeProvider, fake: FakeLLM) -> None:
    with pytest.raises(ProviderError):
        await collect(make_provider("anthropic", max_retries=0), chat("hi [[fake:disconnect_after=4]]"))

    assert len(fake.requests) == 1
