"""Usage records: one row per LLM call, the source of `/api/stats` and provider health."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime

from sqlalchemy import insert

from dtbot import logs
from dtbot.clock import utcnow
from dtbot.errors import DatabaseUnavailable
from dtbot.ids import new_id
from dtbot.store import Database
from dtbot.store.models import UsageRecord

STATUS_OK = "ok"
STATUS_ERROR = "error"
STATUS_CANCELLED = "cancelled"
_log = logs.get("usage")


@dataclass(slots=True)
class UsageEntry:
    """What one LLM call cost and how it went."""

    model: str
    provider: str
    status: str = STATUS_OK
    api_key_id: str | None = None
    user_id: str = ""
    source: str = "api"
    stream: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    error_code: int | None = None
    cost: float = 0.0
    currency: str = "USD"
    conversation_id: str | None = None
    request_id: str | None = None
    created_at: datetime = field(default_factory=utcnow)


_FIELDS = tuple(f.name for f in fields(UsageEntry))


class UsageService:
    """Writes usage records; one multi-row INSERT per batch."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, entries: Sequence[UsageEntry]) -> None:
        """Store a batch of entries in one statement."""
        if not entries:
            return
        rows = [
            {name: getattr(entry, name) for name in _FIELDS}  # not asdict(): it deep-copies every value
            | {"id": new_id("use"), "total_tokens": entry.prompt_tokens + entry.completion_tokens}
            for entry in entries
        ]
        async with self._db.session() as session:
            await session.execute(insert(UsageRecord), rows)
            await session.commit()


class UsageRecorder:
    """Collects entries off the request path and writes them in batches.

    `add` only appends to a list; a background task writes every half second
    (or at once when a batch is full), and `close` writes what is left, so a
    clean shutdown loses nothing. While the database is down, entries wait and
    are written when it is back (up to `MAX_PENDING`; beyond that the oldest go,
    with an error in the log).
    """

    FLUSH_SECONDS = 0.5
    BATCH = 500
    MAX_PENDING = 100_000

    def __init__(self, usage: UsageService) -> None:
        self._usage = usage
        self._pending: list[UsageEntry] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def add(self, entry: UsageEntry) -> None:
        """Queue one entry; never blocks."""
        self._pending.append(entry)
        if len(self._pending) >= self.BATCH:
            self._wake.set()

    def start(self) -> None:
        """Begin writing in the background."""
        self._task = asyncio.create_task(self._run(), name="usage-recorder")

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.FLUSH_SECONDS)
            self._wake.clear()
            with contextlib.suppress(DatabaseUnavailable):
                await self.flush()

    async def flush(self) -> None:
        """Write everything queued so far, batch by batch; entries stay queued if a write fails."""
        while self._pending:
            batch = self._pending[: self.BATCH]
            try:
                await self._usage.record(batch)
            except DatabaseUnavailable:
                self._trim()
                raise
            del self._pending[: len(batch)]

    def _trim(self) -> None:
        excess = len(self._pending) - self.MAX_PENDING
        if excess > 0:
            del self._pending[:excess]
            _log.error("database unreachable: dropped %d oldest usage records", excess)

    async def close(self) -> None:
        """Stop the background task and write what is left."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()
