"""Usage records: one row per LLM call, the source of `/api/stats` and provider health."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import insert

from dtbot.clock import utcnow
from dtbot.ids import new_id
from dtbot.store import Database
from dtbot.store.models import UsageRecord

STATUS_OK = "ok"
STATUS_ERROR = "error"
STATUS_CANCELLED = "cancelled"


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


class UsageService:
    """Writes usage records; one multi-row INSERT per batch."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, entries: Sequence[UsageEntry]) -> None:
        """Store a batch of entries in one statement."""
        if not entries:
            return
        rows = [
            asdict(entry) | {"id": new_id("use"), "total_tokens": entry.prompt_tokens + entry.completion_tokens}
            for entry in entries
        ]
        async with self._db.session() as session:
            await session.execute(insert(UsageRecord), rows)
            await session.commit()
