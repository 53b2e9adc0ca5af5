"""Rate limits, dedup, counters and pub/sub: in-process by default, Redis when `REDIS_URL` is set."""

from dtbot.cache.base import Cache, QueueEntry, RateDecision, Subscription
from dtbot.cache.memory import MemoryCache
from dtbot.cache.redis import RedisCache


def build_cache(redis_url: str) -> Cache:
    """Redis when a URL is configured, else the in-process cache."""
    return RedisCache(redis_url) if redis_url else MemoryCache()


__all__ = ["Cache", "MemoryCache", "QueueEntry", "RateDecision", "RedisCache", "Subscription", "build_cache"]
