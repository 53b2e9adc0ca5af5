"""LLM provider adapters: one module per wire format behind the `Provider` interface.

registry = ProviderRegistry([ProviderSettings(name="openai", kind="openai", api_key=key)])
answer = await registry.get("openai").complete(ChatRequest(model="gpt-4o", messages=[...]))
async for item in registry.get("openai").stream(request): ...  # Delta…, then Usage
await registry.close()
"""

from dtbot.providers.base import ChatRequest, Completion, Delta, Provider, ProviderError, ProviderSettings, Usage
from dtbot.providers.registry import ProviderRegistry, build_provider

__all__ = [
    "ChatRequest",
    "Completion",
    "Delta",
    "Provider",
    "ProviderError",
    "ProviderRegistry",
    "ProviderSettings",
    "Usage",
    "build_provider",
]
