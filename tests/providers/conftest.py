"""One fake LLM server for the whole suite, and providers pointed at it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from dtbot.providers import Provider, ProviderSettings, build_provider
from tests.fakes import FakeLLM

from .support import API_KEY

MakeProvider = Callable[..., Provider]


@pytest.fixture(scope="session")
async def fake_llm() -> AsyncIterator[FakeLLM]:
    async with FakeLLM() as fake:
        yield fake


@pytest.fixture
def fake(fake_llm: FakeLLM) -> FakeLLM:
    """The shared fake, with nothing recorded yet."""
    fake_llm.clear()
    return fake_llm


@pytest.fixture
async def make_provider(fake: FakeLLM) -> AsyncIterator[MakeProvider]:
    """Builds providers aimed at the fake with quick retries; closes them after the test."""
    made: list[Provider] = []

    def make(kind: str, **overrides: Any) -> Provider:
        settings = ProviderSettings(
            name=kind,
            kind=kind,
            api_key=API_KEY,
            base_url=fake.base_url(kind),
            retry_backoff=0.01,  # type: ignore[arg-type]
        )
        provider = build_provider(dataclasses.replace(settings, **overrides))
        made.append(provider)
        return provider

    yield make
    for provider in made:
        await provider.close()
