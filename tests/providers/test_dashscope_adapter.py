"""The DashScope adapter: Qwen's compatible mode, its usage-only last chunk and its error forms."""

from __future__ import annotations

import pytest

from dtbot.providers import ProviderError, Usage
from tests.fakes import FakeLLM

from .conftest import MakeProvider
from .support import chat, collect, content, usages


async def test_complete_returns_answer_and_usage(make_provider: MakeProvider, fake: FakeLLM) -> None:
    answer = await make_provider("dashscope").complete(chat("通义"))

    assert answer.content == "Echo: 通义"
    assert answer.usage == Usage(prompt_tokens=2, completion_tokens=8)
    assert fake.requests[0].path == "/dashscope/compatible-mode/v1/chat/completions"


async def test_usage_arrives_in_a_last_chunk_without_choices(make_provider: MakeProvider, fake: FakeLLM) -> None:
    items = await collect(make_provider("dashscope"), chat("通义"))

    assert fake.bodies()[0]["stream_options"] == {"include_usage": True}
    assert content(items) == "Echo: 通义"
    assert items[-1] == Usage(prompt_tokens=2, completion_tokens=8)
    assert len(usages(items)) == 1


async def test_stream_without_the_usage_chunk_yields_no_usage(make_provider: MakeProvider) -> None:
    items = await collect(make_provider("dashscope"), chat("hi [[fake:no_usage]]"))

    assert content(items) == "Echo: hi" and usages(items) == []


async def test_native_error_form_is_read_and_throttling_retried(make_provider: MakeProvider, fake: FakeLLM) -> None:
    answer = await make_provider("dashscope").complete(chat("hi [[fake:status=429,toplevel,times=1]]"))

    assert answer.content == "Echo: hi"
    assert len(fake.requests) == 2


async def test_native_error_form_gives_its_message_and_code(make_provider: MakeProvider) -> None:
    with pytest.raises(ProviderError, match=r"HTTP 400: fake HTTP 400 \(InvalidParameter\)"):
        await make_provider("dashscope").complete(chat("[[fake:status=400,toplevel,code=InvalidParameter]]"))


async def test_quota_used_up_is_not_retried_despite_its_429(make_provider: MakeProvider, fake: FakeLLM) -> None:
    with pytest.raises(ProviderError, match=r"Throttling\.AllocationQuota"):
        await make_provider("dashscope").complete(chat("[[fake:status=429,code=Throttling.AllocationQuota]]"))

    assert len(fake.requests) == 1


async def test_inspection_failure_mid_stream_is_an_error(make_provider: MakeProvider) -> None:
    with pytest.raises(ProviderError, match="data_inspection_failed") as caught:
        await collect(make_provider("dashscope"), chat("hi [[fake:inband_error,error_after=1]]"))

    assert not caught.value.before_output
