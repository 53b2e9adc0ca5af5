"""`/api/stats`: totals and today's figures computed from the usage records."""

from __future__ import annotations

from datetime import datetime, tzinfo

from msgspec import Struct
from sqlalchemy import case, func, select, union

from dtbot.clock import local_day_start, utcnow
from dtbot.store import Database
from dtbot.store.models import Conversation, UsageRecord


class Stats(Struct, rename="camel", frozen=True, kw_only=True):
    """The API document's statistics. A message is one question answered by a model."""

    total_users: int
    total_conversations: int
    total_messages: int
    today_messages: int
    total_tokens: int
    today_tokens: int
    model_usage: dict[str, int]


def whole_percentages(counts: dict[str, int]) -> dict[str, int]:
    """Whole-number shares that add up to 100 (largest remainder), largest first."""
    total = sum(counts.values())
    if not total:
        return {}
    exact = {name: count * 100 / total for name, count in counts.items()}
    shares = {name: int(value) for name, value in exact.items()}
    by_remainder = sorted(exact, key=lambda name: (exact[name] - shares[name], counts[name]), reverse=True)
    for name in by_remainder[: 100 - sum(shares.values())]:
        shares[name] += 1
    return dict(sorted(shares.items(), key=lambda item: (-item[1], item[0])))


class StatsService:
    """Aggregates over usage records and conversations."""

    def __init__(self, db: Database, zone: tzinfo) -> None:
        self._db = db
        self.zone = zone

    async def user_tokens_since(self, user_id: str, since: datetime) -> int:
        """Tokens used by one user (a DingTalk sender, an API `user`) since a time."""
        query = select(func.coalesce(func.sum(UsageRecord.total_tokens), 0)).where(
            UsageRecord.user_id == user_id, UsageRecord.created_at >= since
        )
        async with self._db.session() as session:
            return int(await session.scalar(query) or 0)

    async def summary(self) -> Stats:
        """Totals, today's figures (the day in the configured time zone) and model shares."""
        today = local_day_start(utcnow(), self.zone)
        caller = func.coalesce(func.nullif(UsageRecord.user_id, ""), UsageRecord.api_key_id)
        users = union(
            select(caller.label("who")).where(caller.is_not(None)),
            select(Conversation.user_id.label("who")).where(Conversation.user_id != ""),
        ).subquery()
        is_today = UsageRecord.created_at >= today  # MySQL has no FILTER clause, hence CASE
        totals = select(
            func.count(UsageRecord.id),
            func.coalesce(func.sum(UsageRecord.total_tokens), 0),
            func.coalesce(func.sum(case((is_today, 1), else_=0)), 0),
            func.coalesce(func.sum(case((is_today, UsageRecord.total_tokens), else_=0)), 0),
        )
        per_model = select(UsageRecord.model, func.count()).group_by(UsageRecord.model)
        async with self._db.session() as session:
            total_users = await session.scalar(select(func.count()).select_from(users)) or 0
            conversations = await session.scalar(select(func.count()).select_from(Conversation)) or 0
            messages, tokens, today_messages, today_tokens = (await session.execute(totals)).one()
            models = {model: count for model, count in (await session.execute(per_model)).all()}
        return Stats(
            total_users=total_users,
            total_conversations=conversations,
            total_messages=messages,
            today_messages=int(today_messages),
            total_tokens=int(tokens),
            today_tokens=int(today_tokens),
            model_usage=whole_percentages(models),
        )
