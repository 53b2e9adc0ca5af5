"""The Redis cache: shared by every replica; failures surface as `CacheUnavailable` (50003)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import redis.asyncio as aioredis
from limits import RateLimitItemPerSecond
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from dtbot.cache.base import QueueEntry, RateDecision
from dtbot.errors import CacheUnavailable

T = TypeVar("T")
_PREFIX = "dtbot:"
_TIMEOUT = 2.0
_GROUP = "workers"  # one consumer group: every replica's workers share the stream

# Sets the key to `amount` with an expiry when it is new, else adds to it: one round trip, atomic.
_INCR = """
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if tonumber(value) == tonumber(ARGV[1]) and tonumber(ARGV[2]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
"""


class LimitsRateLimiter:
    """An exact moving window in Redis (a Lua script of the `limits` library), shared by every replica."""

    def __init__(self, storage: object) -> None:
        self._limiter = MovingWindowRateLimiter(storage)  # type: ignore[arg-type]
        self._items: dict[tuple[int, int], RateLimitItemPerSecond] = {}

    def _item(self, limit: int, window_seconds: int) -> RateLimitItemPerSecond:
        item = self._items.get((limit, window_seconds))
        if item is None:
            item = self._items[(limit, window_seconds)] = RateLimitItemPerSecond(limit, window_seconds)
        return item

    async def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        item = self._item(limit, window_seconds)
        if await self._limiter.hit(item, key):
            return RateDecision(True, limit, -1, 0)
        reset_at, remaining = await self._limiter.get_window_stats(item, key)
        return RateDecision(False, limit, remaining, max(1, math.ceil(reset_at - time.time())))


class _PubSubSubscription:
    def __init__(self, cache: RedisCache, pubsub: PubSub) -> None:
        self._cache = cache
        self._pubsub = pubsub

    async def _read(self, seconds: float) -> dict[str, Any] | None:
        # Bounded below the socket timeout so a quiet channel is not taken for a dead connection.
        wait = max(0.0, min(seconds, _TIMEOUT / 2))
        return await self._cache._call(lambda: self._pubsub.get_message(timeout=wait))

    async def confirmed(self) -> None:
        """Wait for Redis to confirm the subscription, so no later publish is missed."""
        deadline = time.monotonic() + _TIMEOUT
        while time.monotonic() < deadline:
            message = await self._read(deadline - time.monotonic())
            if message is not None and message["type"] == "subscribe":
                return
        raise CacheUnavailable("缓存服务异常: Redis did not confirm the subscription")

    async def next(self, seconds: float) -> str | None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            message = await self._read(left)
            if message is not None and message["type"] == "message":
                return message["data"]
        return None


class RedisCache:
    """Keys, counters, rate limits and pub/sub in Redis, through one connection pool."""

    kind = "redis"

    def __init__(self, url: str) -> None:
        options: dict[str, Any] = {
            "socket_timeout": _TIMEOUT,
            "socket_connect_timeout": _TIMEOUT,
            # A pooled connection that died while Redis was away fails once when next used: try that
            # command again at once on a new connection, so recovery needs no restart and loses nothing.
            "retry": Retry(NoBackoff(), retries=1),
            "retry_on_error": [RedisConnectionError],
        }
        self._client = aioredis.from_url(url, decode_responses=True, **options)
        self._incr = self._client.register_script(_INCR)
        self._groups: set[str] = set()
        self._limiter = LimitsRateLimiter(
            RedisStorage(
                url.replace("redis://", "async+redis://", 1).replace("rediss://", "async+rediss://", 1),
                implementation="redispy",
                key_prefix=f"{_PREFIX}limits",
                wrap_exceptions=True,
                **options,
            )
        )

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        try:
            return await operation()
        except (TimeoutError, RedisError, StorageError, OSError) as error:
            raise CacheUnavailable() from error

    async def hit(self, key: str, limit: int, window_seconds: int = 60) -> RateDecision:
        return await self._call(lambda: self._limiter.hit(key, limit, window_seconds))

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        stored = await self._call(lambda: self._client.set(_PREFIX + key, value, nx=True, px=int(ttl * 1000)))
        return bool(stored)

    async def delete(self, key: str) -> None:
        await self._call(lambda: self._client.delete(_PREFIX + key))

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        expiry = 0 if ttl is None else int(ttl * 1000)
        value = await self._call(lambda: self._incr(keys=[_PREFIX + key], args=[amount, expiry]))
        return int(value)

    async def get(self, key: str) -> str | None:
        return await self._call(lambda: self._client.get(_PREFIX + key))

    async def publish(self, channel: str, message: str) -> None:
        await self._call(lambda: self._client.publish(_PREFIX + channel, message))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[_PubSubSubscription]:
        pubsub = self._client.pubsub()
        try:
            await self._call(lambda: pubsub.subscribe(_PREFIX + channel))
            subscription = _PubSubSubscription(self, pubsub)
            await subscription.confirmed()
            yield subscription
        finally:
            await pubsub.aclose()

    async def enqueue(self, queue: str, item: str) -> None:
        await self._call(lambda: self._client.xadd(_PREFIX + queue, {"item": item}, maxlen=100_000, approximate=True))

    async def _ensure_group(self, stream: str) -> None:
        if stream in self._groups:
            return
        try:
            await self._call(lambda: self._client.xgroup_create(stream, _GROUP, id="0", mkstream=True))
        except CacheUnavailable as error:
            if "BUSYGROUP" not in str(error.__cause__):  # the group exists already: fine
                raise
        self._groups.add(stream)

    async def dequeue(self, queue: str, consumer: str, seconds: float) -> QueueEntry | None:
        stream = _PREFIX + queue
        await self._ensure_group(stream)
        # Block below the socket timeout so a quiet queue is not taken for a dead connection.
        block = int(min(seconds, _TIMEOUT / 2) * 1000)
        found = await self._call(
            lambda: self._client.xreadgroup(_GROUP, consumer, {stream: ">"}, count=1, block=max(block, 1))
        )
        if not found:
            return None
        entry_id, fields = found[0][1][0]
        return QueueEntry(entry_id, fields["item"])

    async def ack(self, queue: str, entry: QueueEntry) -> None:
        stream = _PREFIX + queue
        await self._call(lambda: self._client.xack(stream, _GROUP, entry.id))

    async def ping(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self._client.ping(), _TIMEOUT))
        except (TimeoutError, RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._client.aclose()
