"""Building adapters from settings and keeping one per provider name."""

from __future__ import annotations

import pytest

from dtbot.errors import LLMServiceError
from dtbot.providers import ProviderRegistry, ProviderSettings, build_provider
from dtbot.providers.anthropic import AnthropicProvider
from dtbot.providers.dashscope import DashScopeProvider
from dtbot.providers.openai import OpenAIProvider
from dtbot.providers.zhipu import ZhipuProvider
from tests.fakes import FakeLLM

from .support import API_KEY, chat


@pytest.mark.parametrize(
    ("kind", "adapter", "url"),
    [
        ("openai", OpenAIProvider, "https://api.openai.com/v1/chat/completions"),
        ("zhipu", ZhipuProvider, "https://open.bigmodel.cn/api/paas/v4/chat/completions"),
        ("dashscope", DashScopeProvider, "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions"),
        ("anthropic", AnthropicProvider, "https://api.anthropic.com/v1/messages"),
    ],
)
def test_each_kind_gets_its_adapter_and_default_url(kind: str, adapter: type, url: str) -> None:
    provider = build_provider(ProviderSettings(name=kind, kind=kind, api_key=API_KEY))  # type: ignore[arg-type]

    assert type(provider) is adapter
    assert provider.url == url  # type: ignore[attr-defined]


def test_a_compatible_vendor_is_the_openai_adapter_at_its_own_url() -> None:
    settings = ProviderSettings(name="deepseek", kind="openai", api_key=API_KEY, base_url="https://api.deepseek.com/")
    provider = build_provider(settings)

    assert type(provider) is OpenAIProvider and provider.name == "deepseek"
    assert provider.url == "https://api.deepseek.com/chat/completions"  # type: ignore[attr-defined]


def test_unknown_kind_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown provider kind 'cohere'; known: openai, zhipu"):
        build_provider(ProviderSettings(name="x", kind="cohere", api_key=API_KEY))  # type: ignore[arg-type]


async def test_registry_serves_each_provider_by_name_and_closes_them(fake: FakeLLM) -> None:
    registry = ProviderRegistry(
        ProviderSettings(name=name, kind=kind, api_key=API_KEY, base_url=fake.base_url(kind))
        for name, kind in [("openai", "openai"), ("deepseek", "openai"), ("claude", "anthropic")]
    )
    try:
        assert registry.names == ["openai", "deepseek", "claude"]
        assert "claude" in registry and "zhipu" not in registry
        assert registry.get("openai") is registry.get("openai")
        assert (await registry.get("claude").complete(chat("hi"))).content == "Echo: hi"
        await registry.get("deepseek").complete(chat("hi"))
        with pytest.raises(LLMServiceError, match="zhipu"):
            registry.get("zhipu")
    finally:
        await registry.close()

    await registry.get("deepseek").complete(chat("again"))  # a closed pool is opened anew
    await registry.close()
    assert [r.kind for r in fake.requests] == ["anthropic", "openai", "openai"]
    assert fake.requests[1].peer_port != fake.requests[2].peer_port
