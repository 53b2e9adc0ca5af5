"""What the gateway is doing now: calls and tokens per minute, and the latest LLM calls.

The dashboard's live views read these; they are computed from the usage
records (one per LLM call), like `/api/stats`. Minutes are grouped in SQL with
one expression per dialect, so an hour of heavy traffic is sixty rows, not
every record.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from msgspec import Struct
from sqlalchemy import Integer, bindparam, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from dtbot.clock import local, utcnow
from dtbot.store import Database
from dtbot.store.models import UsageRecord

MAX_MINUTES = 24 * 60
MAX_CALLS = 500
_ERROR = "error"  # `dtbot.services.usage.STATUS_ERROR`; repeated so this module needs nothing but the store


class MinuteBucket(Struct, rename="camel", frozen=True, kw_only=True):
    """One minute: when it starts (in the configured zone), the calls made in it, their tokens, the failures."""

    start: datetime
    calls: int
    tokens: int
    errors: int


class CallRecord(Struct, rename="camel", frozen=True, kw_only=True):
    """One LLM call as the live tail shows it."""

    id: str
    time: datetime
    model: str
    provider: str
    source: str
    status: str
    stream: bool
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    latency_ms: float
    ttft_ms: float | None
    error_code: int | None
    api_key_id: str | None
    user_id: str
    conversation_id: str | None
    request_id: str | None


class _MinutesSince(FunctionElement[int]):
    """Whole minutes from a start time to a (later) stored time: `(created_at, start)`."""

    type = Integer()
    inherit_cache = True
    name = "minutes_since"


@compiles(_MinutesSince)
def _minutes_mysql(element: _MinutesSince, compiler: Any, **kw: Any) -> str:
    at, start = list(element.clauses)
    return f"TIMESTAMPDIFF(MINUTE, {compiler.process(start, **kw)}, {compiler.process(at, **kw)})"


@compiles(_MinutesSince, "sqlite")
def _minutes_sqlite(element: _MinutesSince, compiler: Any, **kw: Any) -> str:
    at, start = list(element.clauses)
    seconds = "CAST(strftime('%s', {}) AS INTEGER)"
    return f"(({seconds.format(compiler.process(at, **kw))} - {seconds.format(compiler.process(start, **kw))}) / 60)"


def minute_floor(moment: datetime) -> datetime:
    """The start of `moment`'s minute."""
    return moment.replace(second=0, microsecond=0)


class ActivityService:
    """Live figures over the usage records."""

    def __init__(self, db: Database, zone: tzinfo) -> None:
        self._db = db
        self._zone = zone

    async def per_minute(self, minutes: int = 60, *, now: datetime | None = None) -> list[MinuteBucket]:
        """The last `minutes` minutes, oldest first, the current (unfinished) minute last; empty minutes too."""
        minutes = max(1, min(minutes, MAX_MINUTES))
        start = minute_floor(now or utcnow()) - timedelta(minutes=minutes - 1)
        since = bindparam("since", start, type_=UsageRecord.created_at.type)
        bucket = _MinutesSince(UsageRecord.created_at, since).label("bucket")
        query = (
            select(
                bucket,
                func.count(UsageRecord.id),
                func.coalesce(func.sum(UsageRecord.total_tokens), 0),
                func.coalesce(func.sum(case((UsageRecord.status == _ERROR, 1), else_=0)), 0),
            )
            .where(UsageRecord.created_at >= start, UsageRecord.created_at < start + timedelta(minutes=minutes))
            .group_by(bucket)
        )
        async with self._db.session() as session:
            rows = (await session.execute(query)).all()
        found = {int(index): (int(calls), int(tokens), int(errors)) for index, calls, tokens, errors in rows}
        return [
            MinuteBucket(
                start=local(start + timedelta(minutes=index), self._zone), calls=calls, tokens=tokens, errors=errors
            )
            for index in range(minutes)
            for calls, tokens, errors in [found.get(index, (0, 0, 0))]
        ]

    async def recent_calls(self, limit: int = 50, *, errors_only: bool = False) -> list[CallRecord]:
        """The latest LLM calls, newest first (at most `MAX_CALLS`)."""
        query = select(UsageRecord).order_by(UsageRecord.created_at.desc(), UsageRecord.id.desc())
        if errors_only:
            query = query.where(UsageRecord.status == _ERROR)
        query = query.limit(max(1, min(limit, MAX_CALLS)))
        async with self._db.session() as session:
            return [self._call(row) for row in await session.scalars(query)]

    def _call(self, row: UsageRecord) -> CallRecord:
        return CallRecord(
            id=row.id,
            time=local(row.created_at, self._zone),
            model=row.model,
            provider=row.provider,
            source=row.source,
            status=row.status,
            stream=row.stream,
            prompt_tokens=row.prompt_tokens,
            completion_tokens=row.completion_tokens,
            total_tokens=row.total_tokens,
            latency_ms=row.latency_ms,
            ttft_ms=row.ttft_ms,
            error_code=row.error_code,
            api_key_id=row.api_key_id,
            user_id=row.user_id,
            conversation_id=row.conversation_id,
            request_id=row.request_id,
        )
