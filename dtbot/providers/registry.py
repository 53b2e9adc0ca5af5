"""One adapter instance per configured provider, looked up by name."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from dtbot.errors import LLMServiceError
from dtbot.providers.anthropic import AnthropicProvider
from dtbot.providers.base import Provider, ProviderSettings
from dtbot.providers.dashscope import DashScopeProvider
from dtbot.providers.http import HttpProvider
from dtbot.providers.openai import OpenAIProvider
from dtbot.providers.zhipu import ZhipuProvider

ADAPTERS: dict[str, type[HttpProvider]] = {
    "openai": OpenAIProvider,
    "zhipu": ZhipuProvider,
    "dashscope": DashScopeProvider,
    "anthropic": AnthropicProvider,
}


def build_provider(settings: ProviderSettings) -> Provider:
    """The adapter for `settings.kind`, the wire format the provider speaks."""
    try:
        adapter = ADAPTERS[settings.kind]
    except KeyError:
        raise ValueError(f"unknown provider kind {settings.kind!r}; known: {', '.join(ADAPTERS)}") from None
    return adapter(settings)


class ProviderRegistry:
    """The providers of one process; each keeps its own connection pool until `close()`."""

    def __init__(self, settings: Iterable[ProviderSettings]) -> None:
        self._providers = {s.name: build_provider(s) for s in settings}

    def get(self, name: str) -> Provider:
        """The provider called `name`; LLMServiceError when none is configured by that name."""
        try:
            return self._providers[name]
        except KeyError:
            raise LLMServiceError(f"LLM服务 {name} 未配置") from None

    def __contains__(self, name: object) -> bool:
        return name in self._providers

    @property
    def names(self) -> list[str]:
        """The configured provider names."""
        return list(self._providers)

    async def close(self) -> None:
        """Close every provider's connection pool."""
        await asyncio.gather(*(provider.close() for provider in self._providers.values()))
