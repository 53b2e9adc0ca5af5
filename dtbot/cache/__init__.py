"""Rate limits, dedup, counters and pub/sub: in-process by default, Redis when `REDIS_URL` is set."""

from dtbot.cache.base import Cache, QueueEntry, RateDecision, Subscription
from dtbot.cache.memory import MemoryCache


def build_cache(redis_url: str) -> Cache:
    """Redis when a URL is configured, else the in-process cache (the Redis client is then never imported)."""
    if not redis_url:
        return MemoryCache()
    from dtbot.cache.redis import RedisCache

    return RedisCache(redis_url)


__all__ = ["Cache", "MemoryCache", "QueueEntry", "RateDecision", "Subscription", "build_cache"]
