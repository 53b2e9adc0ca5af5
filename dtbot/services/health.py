"""`/api/health`: the database, Redis and each LLM provider, in the API document's shape."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime, timedelta, tzinfo

from msgspec import Struct
from sqlalchemy import select

from dtbot import __version__
from dtbot.cache import Cache
from dtbot.clock import local, utcnow
from dtbot.config import Config
from dtbot.errors import DatabaseUnavailable
from dtbot.services.usage import STATUS_ERROR
from dtbot.store import Database
from dtbot.store.models import UsageRecord

HEALTHY, UNHEALTHY, DEGRADED = "healthy", "unhealthy", "degraded"
DISABLED, UNCONFIGURED, UNKNOWN = "disabled", "unconfigured", "unknown"
RECENT = timedelta(minutes=5)  # a provider whose latest call in this window failed is unhealthy


class ServiceHealth(Struct, frozen=True, kw_only=True):
    database: str
    redis: str
    llm_providers: dict[str, str]


class Health(Struct, frozen=True, kw_only=True):
    """The API document's health shape: overall status, each dependency's, version, uptime in seconds."""

    status: str
    timestamp: datetime
    version: str
    services: ServiceHealth
    uptime: int


class HealthService:
    """Checks every dependency concurrently."""

    def __init__(self, db: Database, cache: Cache, config: Config, zone: tzinfo) -> None:
        self._db = db
        self._zone = zone
        self._cache = cache
        self._config = config
        self._started = time.monotonic()

    async def check(self) -> Health:
        """The current health; `status` is unhealthy when the database is down, degraded when Redis is."""
        database_ok, redis = await asyncio.gather(self._db.ping(), self._redis())
        providers = self._providers_unknown()
        if database_ok:
            with contextlib.suppress(DatabaseUnavailable):  # it may fail between the ping and this
                providers = await self._providers()
        if not database_ok:
            status = UNHEALTHY
        elif redis == UNHEALTHY or UNHEALTHY in providers.values():
            status = DEGRADED
        else:
            status = HEALTHY
        return Health(
            status=status,
            timestamp=local(utcnow(), self._zone),
            version=__version__,
            services=ServiceHealth(
                database=HEALTHY if database_ok else UNHEALTHY, redis=redis, llm_providers=providers
            ),
            uptime=int(time.monotonic() - self._started),
        )

    async def _redis(self) -> str:
        if self._cache.kind != "redis":
            return DISABLED
        return HEALTHY if await self._cache.ping() else UNHEALTHY

    def _providers_unknown(self) -> dict[str, str]:
        return {name: UNKNOWN if p.configured else UNCONFIGURED for name, p in self._config.providers.items()}

    async def _providers(self) -> dict[str, str]:
        since = utcnow() - RECENT
        result: dict[str, str] = {}
        async with self._db.session() as session:
            for name, provider in self._config.providers.items():
                if not provider.configured:
                    result[name] = UNCONFIGURED
                    continue
                latest = await session.scalar(
                    select(UsageRecord.status)
                    .where(UsageRecord.provider == name, UsageRecord.created_at >= since)
                    .order_by(UsageRecord.created_at.desc())
                    .limit(1)
                )
                result[name] = UNHEALTHY if latest == STATUS_ERROR else HEALTHY
        return result
