"""One fake DingTalk for the package's tests, and clients of the adapter aimed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from dtbot.dingtalk.client import DingTalkClient
from tests.fakes.dingtalk import FakeDingTalk

MakeClient = Callable[..., DingTalkClient]


@pytest.fixture(scope="session")
async def fake_dingtalk() -> AsyncIterator[FakeDingTalk]:
    async with FakeDingTalk() as fake:
        yield fake


@pytest.fixture
def fake(fake_dingtalk: FakeDingTalk) -> FakeDingTalk:
    """The shared fake, with nothing recorded, switched or registered."""
    fake_dingtalk.reset()
    return fake_dingtalk


@pytest.fixture
async def make_client(fake: FakeDingTalk) -> AsyncIterator[MakeClient]:
    """Builds clients aimed at the fake (its origin allowed) with quick retries; closes them after the test."""
    made: list[DingTalkClient] = []

    def make(**options: Any) -> DingTalkClient:
        settings: dict[str, Any] = {
            "api_base": fake.api_base,
            "app_key": fake.app_key,
            "app_secret": fake.app_secret,
            "allowlist": [fake.origin],
            "timeout": 2.0,
            "attempts": 3,
            "backoff": 0.01,
        }
        settings.update(options)
        client = DingTalkClient(**settings)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


@pytest.fixture
def client(make_client: MakeClient) -> DingTalkClient:
    """A client aimed at the fake."""
    return make_client()
