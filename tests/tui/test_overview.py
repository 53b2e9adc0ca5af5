"""Overview: the figures of `/api/stats`, the last hour, model usage and health, refreshed live."""

from __future__ import annotations

import pytest
from textual.widgets import Sparkline

from dtbot.services.usage import UsageEntry
from dtbot.store import migrate
from dtbot.tui.screens.overview import OverviewScreen
from dtbot.tui.widgets.figures import Figures
from dtbot.tui.widgets.health import HealthPanel
from dtbot.tui.widgets.model_bars import ModelBars
from tests.fakes.llm import free_port
from tests.support.backends import drop_mysql_database, new_mysql_database, redis_url
from tests.tui.conftest import SIZE, dashboard
from tests.tui.data import CONVERSATIONS, seed
from tests.tui.support import text_of, until


def figure(app: object, panel: str, label: str) -> str:
    rows = dict(app.screen.query_one(f"#{panel}", Figures).rows)  # type: ignore[attr-defined]
    return rows[label]


async def test_shows_the_stats_of_the_service(database: str) -> None:
    app = dashboard(database)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, OverviewScreen)
        await until(pilot, lambda: figure(app, "totals", "conversations") != "-", "the first refresh")
        stats = await app.runtime.stats.summary()
        assert figure(app, "totals", "conversations") == str(CONVERSATIONS)
        assert figure(app, "totals", "messages") == f"{stats.total_messages:,}"
        assert figure(app, "totals", "tokens") == f"{stats.total_tokens:,}"
        assert figure(app, "today", "tokens") == f"{stats.today_tokens:,}"
        assert app.screen.query_one(ModelBars).shares == stats.model_usage
        health = app.screen.query_one(HealthPanel).health
        assert health is not None and health.services.database == "healthy" and health.services.redis == "disabled"


async def test_a_new_call_shows_within_a_refresh(database: str) -> None:
    app = dashboard(database)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: figure(app, "today", "calls, last hour") == "0", "the first refresh")
        before = figure(app, "totals", "messages")
        await app.runtime.usage.record([UsageEntry(model="gpt-4", provider="openai", completion_tokens=42)])
        await until(pilot, lambda: figure(app, "today", "calls, last hour") == "1", "the next refresh", within=5)
        assert figure(app, "totals", "messages") == f"{int(before.replace(',', '')) + 1:,}"
        calls, tokens = app.screen.query(Sparkline)
        assert len(calls.data or []) == 60 and (calls.data or [])[-1] == 1
        assert (tokens.data or [])[-1] == 42


async def test_an_unreachable_database_is_a_message_and_the_keys_still_work() -> None:
    app = dashboard(f"mysql://root@127.0.0.1:{free_port()}/dtbot")
    async with app.run_test(size=SIZE) as pilot:
        status = app.screen.query_one("#overview-status")
        await until(pilot, lambda: "50002" in text_of(status), "the database error")  # type: ignore[arg-type]
        health = app.screen.query_one(HealthPanel).health
        assert health is not None and health.status == "unhealthy"
        await pilot.press("5")
        assert app.current_mode == "keys"


@pytest.mark.services
async def test_on_mysql_and_redis() -> None:
    url = new_mysql_database()
    try:
        migrate.upgrade(url)
        app = dashboard(url, REDIS_URL=redis_url())
        async with app.run_test(size=SIZE) as pilot:
            await seed(app.runtime)
            await app.runtime.usage.record([UsageEntry(model="glm-4", provider="zhipu", completion_tokens=7)])
            await until(pilot, lambda: figure(app, "totals", "conversations") == str(CONVERSATIONS), "the data")
            await until(pilot, lambda: figure(app, "today", "calls, last hour") == "1", "the new call")
            health = app.screen.query_one(HealthPanel).health
            assert health is not None and health.services.redis == "healthy"
            assert (app.screen.query(Sparkline).first().data or [])[-1] == 1
    finally:
        drop_mysql_database(url)
