"""The activity service: calls and tokens per minute, and the latest calls, on SQLite and on MySQL."""

from __future__ import annotations

from datetime import timedelta

from dtbot.config import load_config
from dtbot.services.activity import ActivityService
from dtbot.services.runtime import open_runtime
from dtbot.services.usage import STATUS_ERROR, UsageEntry
from dtbot.store import migrate
from tests.support.backends import Backend
from tests.tui.data import NOW


def entry(at: timedelta, tokens: int = 10, *, status: str = "ok", request: str = "") -> UsageEntry:
    return UsageEntry(
        model="gpt-4",
        provider="openai",
        status=status,
        completion_tokens=tokens,
        created_at=NOW + at,
        request_id=request,
    )


async def test_minutes_count_calls_tokens_and_errors(backend: Backend) -> None:
    migrate.upgrade(backend.database_url)
    async with open_runtime(load_config(environ=backend.env())) as runtime:
        await runtime.usage.record(
            [
                entry(timedelta(minutes=-5, seconds=-1), 1000),  # before the window: not counted
                entry(timedelta(minutes=-4)),  # the window's first instant
                entry(timedelta(minutes=-4, seconds=59.5), 5),
                entry(timedelta(minutes=-2, seconds=30), 7, status=STATUS_ERROR),
                entry(timedelta(seconds=20), 3),  # the current minute, unfinished
                entry(timedelta(minutes=1), 1000),  # after now's minute: not counted
            ]
        )
        minutes = await ActivityService(runtime.db, runtime.zone).per_minute(5, now=NOW + timedelta(seconds=30))
    assert [(m.calls, m.tokens, m.errors) for m in minutes] == [(2, 15, 0), (0, 0, 0), (1, 7, 1), (0, 0, 0), (1, 3, 0)]
    assert [m.start.strftime("%H:%M%z") for m in minutes] == [
        "11:56+0800",
        "11:57+0800",
        "11:58+0800",
        "11:59+0800",
        "12:00+0800",
    ]


async def test_recent_calls_newest_first_and_errors_only(backend: Backend) -> None:
    migrate.upgrade(backend.database_url)
    async with open_runtime(load_config(environ=backend.env())) as runtime:
        await runtime.usage.record(
            [
                entry(timedelta(seconds=-30), request="old"),
                entry(timedelta(seconds=-20), status=STATUS_ERROR, request="failed"),
                entry(timedelta(seconds=-10), request="new"),
            ]
        )
        activity = ActivityService(runtime.db, runtime.zone)
        assert [c.request_id for c in await activity.recent_calls()] == ["new", "failed", "old"]
        assert [c.request_id for c in await activity.recent_calls(2)] == ["new", "failed"]
        assert [c.request_id for c in await activity.recent_calls(errors_only=True)] == ["failed"]
        latest = (await activity.recent_calls(1))[0]
    assert latest.time.isoformat() == "2025-07-01T11:59:50+08:00"
    assert (latest.prompt_tokens, latest.completion_tokens, latest.total_tokens) == (0, 10, 10)
