"""The Zhipu adapter: OpenAI's, with GLM's parameter ranges, reasoning and error codes."""

from __future__ import annotations

import pytest

from dtbot.providers import Delta, ProviderError, Usage
from tests.fakes import FakeLLM

from .conftest import MakeProvider
from .support import chat, collect, content

ZHIPU_KEY = "0123456789abcdef.ZhipuSecretPart"


async def test_complete_and_stream_return_reasoning_and_usage(make_provider: MakeProvider) -> None:
    provider = make_provider("zhipu")
    answer = await provider.complete(chat("你好 [[fake:reasoning]]"))
    items = await collect(provider, chat("你好 [[fake:reasoning]]"))

    assert answer.content == "Echo: 你好"
    assert answer.reasoning_content == "Thinking about: 你好"
    reasoning = "".join(i.reasoning_content for i in items if isinstance(i, Delta) and i.reasoning_content)
    assert reasoning == "Thinking about: 你好"
    assert content(items) == "Echo: 你好"
    # GLM puts usage on its last chunk (which has a choice), unasked
    assert items[-1] == Usage(prompt_tokens=21, completion_tokens=26)
    assert items[-2].finish_reason == "stop" and items[-2].content is None


async def test_role_repeated_on_every_chunk_is_passed_on_once(make_provider: MakeProvider) -> None:
    items = await collect(make_provider("zhipu"), chat("hi"))

    assert [i.role for i in items if isinstance(i, Delta)] == ["assistant", None, None, None]


@pytest.mark.parametrize(("given", "sent"), [(0, 0.01), (1, 0.99), (1.7, 0.99), (0.5, 0.5)])
async def test_temperature_and_top_p_are_clamped_into_the_open_interval(
    make_provider: MakeProvider, fake: FakeLLM, given: float, sent: float
) -> None:
    answer = await make_provider("zhipu").complete(chat("hi", temperature=given, top_p=given))

    assert answer.content == "Echo: hi"  # the fake refuses 0 and 1 as GLM does
    assert fake.bodies()[0]["temperature"] == sent
    assert fake.bodies()[0]["top_p"] == sent


async def test_parameters_glm_rejects_are_not_sent(make_provider: MakeProvider, fake: FakeLLM) -> None:
    request = chat("hi", presence_penalty=1, frequency_penalty=1, seed=3, user="u", tool_choice="auto", max_tokens=9)
    await collect(make_provider("zhipu"), request)

    body = fake.bodies()[0]
    assert not {"presence_penalty", "frequency_penalty", "seed", "user", "tool_choice", "stream_options"} & set(body)
    assert body["max_tokens"] == 9 and body["stream"] is True


@pytest.mark.parametrize("code", ["1302", "1303"])
async def test_rate_limit_codes_are_retried(make_provider: MakeProvider, fake: FakeLLM, code: str) -> None:
    answer = await make_provider("zhipu").complete(chat(f"hi [[fake:status=429,code={code},times=1]]"))

    assert answer.content == "Echo: hi"
    assert len(fake.requests) == 2


async def test_arrears_code_on_a_429_is_not_retried(make_provider: MakeProvider, fake: FakeLLM) -> None:
    with pytest.raises(ProviderError, match=r"HTTP 429: .*\(1113\)") as caught:
        await make_provider("zhipu", max_retries=3).complete(chat("[[fake:status=429,code=1113]]"))

    assert not caught.value.retryable
    assert len(fake.requests) == 1


async def test_content_filter_inside_a_stream_is_not_retried(make_provider: MakeProvider, fake: FakeLLM) -> None:
    with pytest.raises(ProviderError, match=r"不安全或敏感内容 \(1301\)") as caught:
        await collect(make_provider("zhipu", max_retries=3), chat("[[fake:inband_error]]"))

    assert caught.value.before_output and not caught.value.transient
    assert len(fake.requests) == 1


async def test_key_without_the_sk_prefix_is_redacted_too(make_provider: MakeProvider) -> None:
    with pytest.raises(ProviderError) as caught:
        await make_provider("zhipu", api_key=ZHIPU_KEY).complete(chat("[[fake:status=401,echo_key]]"))

    assert ZHIPU_KEY not in caught.value.message
    assert "ZhipuSecretPart" not in caught.value.message
