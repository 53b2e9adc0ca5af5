"""The in-process cache: the embedded default, good for one process."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dtbot.cache.base import QueueEntry, RateDecision


class _QueueSubscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[str] = asyncio.Queue()

    async def next(self, seconds: float) -> str | None:
        try:
            return await asyncio.wait_for(self.queue.get(), seconds)
        except TimeoutError:
            return None


class MemoryCache:
    """Keys with expiry, counters and pub/sub held in this process."""

    kind = "memory"

    def __init__(self) -> None:
        self._values: dict[str, tuple[str, float | None]] = {}
        self._channels: dict[str, set[asyncio.Queue[str]]] = {}
        self._hits: dict[str, deque[float]] = {}
        self._queues: dict[str, asyncio.Queue[str]] = {}

    def _live(self, key: str) -> str | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        value, expires = entry
        if expires is not None and expires <= time.monotonic():
            del self._values[key]
            return None
        return value

    def _store(self, key: str, value: str, ttl: float | None) -> None:
        self._values[key] = (value, None if ttl is None else time.monotonic() + ttl)

    async def hit(self, key: str, limit: int, window_seconds: int = 60) -> RateDecision:
        # A sliding window as the times of the hits in it: O(1) per hit, exact, no lock on one event loop.
        now = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - window_seconds:
            hits.popleft()
        if len(hits) < limit:
            hits.append(now)
            return RateDecision(True, limit, limit - len(hits), 0)
        return RateDecision(False, limit, 0, max(1, math.ceil(hits[0] + window_seconds - now)))

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        self._store(key, value, ttl)
        return True

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        current = self._live(key)
        if current is None:
            self._store(key, str(amount), ttl)
            return amount
        total = int(current) + amount
        self._values[key] = (str(total), self._values[key][1])
        return total

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def publish(self, channel: str, message: str) -> None:
        for queue in self._channels.get(channel, ()):
            queue.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[_QueueSubscription]:
        subscription = _QueueSubscription()
        self._channels.setdefault(channel, set()).add(subscription.queue)
        try:
            yield subscription
        finally:
            self._channels[channel].discard(subscription.queue)

    def _queue(self, name: str) -> asyncio.Queue[str]:
        return self._queues.setdefault(name, asyncio.Queue())

    async def enqueue(self, queue: str, item: str) -> None:
        self._queue(queue).put_nowait(item)

    async def dequeue(self, queue: str, consumer: str, seconds: float) -> QueueEntry | None:
        try:
            item = await asyncio.wait_for(self._queue(queue).get(), seconds)
        except TimeoutError:
            return None
        return QueueEntry(item, item)

    async def ack(self, queue: str, entry: QueueEntry) -> None:
        """Nothing to do: an item leaves the in-process queue when it is taken."""

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._values.clear()
