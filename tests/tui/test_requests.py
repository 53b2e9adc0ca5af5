"""Requests: the live tail of LLM calls, an errors-only view, and the DingTalk inbox when it has messages."""

from __future__ import annotations

from dtbot.services.usage import UsageEntry
from dtbot.tui.screens.requests import RequestsScreen
from dtbot.tui.widgets.fit_table import FitTable
from tests.tui.conftest import SIZE, dashboard
from tests.tui.support import column, until


def table(app: object, name: str) -> FitTable:
    return app.screen.query_one(f"#{name}", FitTable)  # type: ignore[attr-defined]


async def test_tail_of_calls_and_inbox(database: str) -> None:
    app = dashboard(database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        assert isinstance(app.screen, RequestsScreen)
        await until(pilot, lambda: len(table(app, "calls").rows_shown) == 100, "the calls")
        assert column(table(app, "calls"), "time")[0] == "12:00:37"  # newest first, in the configured zone
        assert app.screen.query_one("#inbox-panel").display
        assert column(table(app, "inbox"), "status") == ["answered", "answered", "processing"]

        await app.runtime.usage.record(
            [UsageEntry(model="glm-4", provider="zhipu", status="error", error_code=50001, request_id="req_live")]
        )
        await until(pilot, lambda: column(table(app, "calls"), "request")[0] == "req_live", "the live call", within=5)
        assert column(table(app, "calls"), "status")[0] == "error 50001"

        await pilot.press("e")  # errors only
        await until(pilot, lambda: set(column(table(app, "calls"), "status")) == {"error 50001"}, "the errors")
        assert len(table(app, "calls").rows_shown) == 5


async def test_no_inbox_table_until_dingtalk_messages_arrive(empty_database: str) -> None:
    app = dashboard(empty_database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("6")
        status = app.screen.query_one("#requests-status")
        await until(pilot, lambda: "0 DingTalk messages" in str(status.render()), "the first refresh")
        assert not app.screen.query_one("#inbox-panel").display
