"""Shared fixtures: a backend per run (SQLite + in-process, or MariaDB + Redis) and servers on it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from dtbot.config import load_config
from dtbot.services.runtime import Runtime, open_runtime
from tests.fakes.dingtalk import FakeDingTalk
from tests.fakes.llm import FakeLLM
from tests.support.backends import Backend, drop_mysql_database, new_mysql_database, redis_url, sqlite_backend
from tests.support.servers import BASE_ENV, Server

# Models the gateway tests add to the catalog: one that falls back, one with a tiny context.
GATEWAY_CONFIG = """
[providers.openai]
max_retries = 1
retry_backoff = 0.05
first_token_timeout = 3
[models.flaky]
provider = "openai"
upstream = "flaky-upstream"
fallbacks = ["glm-4"]
input_price = 1.0
output_price = 2.0
[models.tiny]
provider = "openai"
max_tokens = 60
"""

T = TypeVar("T")
BACKENDS = ["sqlite", "mysql"]


@contextmanager
def provision(name: str, directory: Path) -> Iterator[Backend]:
    """A fresh backend of the named kind, removed afterwards."""
    if name == "sqlite":
        yield sqlite_backend(directory)
        return
    backend = Backend("mysql", new_mysql_database(), redis_url())
    try:
        yield backend
    finally:
        drop_mysql_database(backend.database_url)


def run_on(backend: Backend, work: Callable[[Runtime], Awaitable[T]], **env: str) -> T:
    """Run `work` with a runtime on `backend`, as the CLI would: same database, same cache."""

    async def main() -> T:
        async with open_runtime(load_config(environ=BASE_ENV | backend.env() | env)) as runtime:
            return await work(runtime)

    return asyncio.run(main())


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run each test in its own directory, so no ./config.toml or ./dtbot.db of the checkout leaks in."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A fresh backend for one test, once per kind."""
    with provision(request.param, tmp_path) as made:
        yield made


@pytest.fixture(scope="module", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A running `dtbot serve` on a fresh backend, shared by a module's tests."""
    directory = tmp_path_factory.mktemp(request.param)
    with provision(request.param, directory) as made:
        running = Server(directory, made).start()
        try:
            yield running
        finally:
            running.stop()


def provider_env(fake: FakeLLM) -> dict[str, str]:
    """Keys for the four providers, each pointed at the fake upstream."""
    env = {}
    for kind in ("openai", "zhipu", "dashscope", "anthropic"):
        env[f"{kind.upper()}_API_KEY"] = f"sk-{kind}-test-secret-0123456789"
        env[f"{kind.upper()}_BASE_URL"] = fake.base_url(kind)
    return env


ROBOT_APP_SECRET = "SECdtbot-test-app-secret"


@pytest.fixture(scope="session")
def fake_dingtalk() -> Iterator[FakeDingTalk]:
    """The fake DingTalk (session webhooks, OpenAPI, Stream gateway), serving from its own thread."""
    with FakeDingTalk.in_thread(app_secret=ROBOT_APP_SECRET) as fake:
        yield fake


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[FakeLLM]:
    """The fake LLM upstream, serving from its own thread for the whole run."""
    with FakeLLM.in_thread() as fake:
        yield fake


@pytest.fixture(scope="module", params=BACKENDS)
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM
) -> Iterator[Server]:
    """A running `dtbot serve` with every provider configured against the fake upstream."""
    directory = tmp_path_factory.mktemp(f"gateway-{request.param}")
    (directory / "config.toml").write_text(GATEWAY_CONFIG)
    with provision(request.param, directory) as made:
        running = Server(directory, made, provider_env(fake_llm)).start()
        try:
            yield running
        finally:
            running.stop()


@contextmanager
def started(directory: Path, backend: Backend, **env: str) -> Iterator[Server]:
    """A server of a test's own (for tests that change global state or kill it)."""
    running = Server(directory, backend, env).start()
    try:
        yield running
    finally:
        running.stop()
