"""The dashboard's fixtures: a SQLite file with the fixed data, copied per test, and an app on it."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from dtbot import logs
from dtbot.config import Config, load_config
from dtbot.services.runtime import open_runtime
from dtbot.store import migrate
from dtbot.tui.app import DashboardApp
from tests.support.servers import BASE_ENV
from tests.tui.data import seed

SIZE = (80, 24)


def config_for(database_url: str, **env: str) -> Config:
    """The configuration the dashboard runs with: only the database (and what a test adds)."""
    return load_config(environ=BASE_ENV | {"DATABASE_URL": database_url} | env)


def dashboard(database_url: str, **env: str) -> DashboardApp:
    return DashboardApp(config_for(database_url, **env), refresh_seconds=0.5)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated, seeded database file for the whole run; tests get copies."""
    path = tmp_path_factory.mktemp("tui-template") / "dtbot.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)

    async def fill() -> None:
        async with open_runtime(config_for(url)) as runtime:
            await seed(runtime)

    asyncio.run(fill())
    return path


@pytest.fixture
def database(template: Path, tmp_path: Path) -> str:
    """The URL of this test's own copy of the seeded database."""
    path = tmp_path / "dtbot.db"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def empty_database(tmp_path: Path) -> str:
    """A migrated database without data."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """The runtime configures dtbot's logger when it starts; put it back so other tests see it as they left it."""
    logger = logging.getLogger(logs.LOGGER)
    handlers, propagate, level = list(logger.handlers), logger.propagate, logger.level
    yield
    logger.handlers[:] = handlers
    logger.propagate = propagate
    logger.setLevel(level)
