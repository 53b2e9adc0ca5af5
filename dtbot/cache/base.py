"""The cache interface shared by the in-process and the Redis implementation."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The outcome of one hit on a rate limit."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: int  # whole seconds until a request would be allowed; 0 when allowed


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One item taken from a queue: its queue-level id (for `ack`) and its value."""

    id: str
    item: str


class Subscription(Protocol):
    """Messages of one channel, read one at a time."""

    async def next(self, seconds: float) -> str | None:
        """The next message, or None when none came within `seconds`."""
        ...


class Cache(Protocol):
    """Rate limits, dedup, counters and pub/sub: in-process or shared through Redis."""

    kind: str

    async def hit(self, key: str, limit: int, window_seconds: int = 60) -> RateDecision:
        """Count one request against `limit` per sliding `window_seconds`; atomic across processes."""
        ...

    async def set_if_absent(self, key: str, value: str, ttl: float) -> bool:
        """Store `value` under `key` for `ttl` seconds unless it exists; True when stored."""
        ...

    async def delete(self, key: str) -> None:
        """Remove `key` (nothing when it is absent)."""
        ...

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add `amount` to a counter (created at 0, expiring after `ttl` when new) and return it."""
        ...

    async def get(self, key: str) -> str | None:
        """The value under `key`, or None."""
        ...

    async def publish(self, channel: str, message: str) -> None:
        """Send `message` to every subscriber of `channel`."""
        ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        """A context giving the messages published on `channel` after it was entered."""
        ...

    async def enqueue(self, queue: str, item: str) -> None:
        """Append `item` to a work queue (a Redis Stream, shared by every replica's consumers)."""
        ...

    async def dequeue(self, queue: str, consumer: str, seconds: float) -> QueueEntry | None:
        """The next item no consumer of the group has taken, waiting up to `seconds`."""
        ...

    async def ack(self, queue: str, entry: QueueEntry) -> None:
        """Mark an item done, so it is not handed out again."""
        ...

    async def ping(self) -> bool:
        """True when the backing store answers."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
