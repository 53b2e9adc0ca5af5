"""The cache interface on both implementations: in-process and the machine's Redis."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from dtbot.cache import Cache, MemoryCache
from dtbot.cache.redis import RedisCache
from dtbot.errors import CacheUnavailable
from tests.support.backends import redis_url
from tests.support.servers import free_port


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    made: Cache = MemoryCache() if request.param == "memory" else RedisCache(redis_url())
    yield made
    await made.close()


def unique(name: str) -> str:
    return f"test:{name}:{secrets.token_hex(4)}"


async def test_rate_limit_allows_the_limit_then_refuses(cache: Cache) -> None:
    key = unique("rate")
    decisions = [await cache.hit(key, 3, 60) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert 1 <= decisions[-1].retry_after <= 60
    assert (await cache.hit(unique("other"), 3, 60)).allowed


async def test_rate_limit_window_slides(cache: Cache) -> None:
    key = unique("slide")
    assert (await cache.hit(key, 1, 1)).allowed
    assert not (await cache.hit(key, 1, 1)).allowed
    await asyncio.sleep(1.1)
    assert (await cache.hit(key, 1, 1)).allowed


async def test_rate_limit_is_atomic_under_concurrency(cache: Cache) -> None:
    key = unique("burst")
    decisions = await asyncio.gather(*(cache.hit(key, 10, 60) for _ in range(25)))
    assert sum(d.allowed for d in decisions) == 10


async def test_set_if_absent_expires(cache: Cache) -> None:
    key = unique("dedup")
    assert await cache.set_if_absent(key, "a", 0.3)
    assert not await cache.set_if_absent(key, "b", 0.3)
    assert await cache.get(key) == "a"
    await asyncio.sleep(0.4)
    assert await cache.get(key) is None
    assert await cache.set_if_absent(key, "c", 0.3)


async def test_delete_releases_a_claim(cache: Cache) -> None:
    key = unique("claim")
    assert await cache.set_if_absent(key, "a", 60)
    await cache.delete(key)
    await cache.delete(key)  # absent: nothing happens
    assert await cache.get(key) is None
    assert await cache.set_if_absent(key, "b", 60)


async def test_counters(cache: Cache) -> None:
    key = unique("count")
    assert await cache.incr(key, 2, ttl=0.3) == 2
    assert await cache.incr(key, 3, ttl=0.3) == 5
    await asyncio.sleep(0.4)
    assert await cache.incr(key, 1, ttl=0.3) == 1


async def test_publish_reaches_subscribers(cache: Cache) -> None:
    channel = unique("chan")
    async with cache.subscribe(channel) as first, cache.subscribe(channel) as second:
        assert await first.next(0.05) is None
        await cache.publish(channel, "你好")
        assert await first.next(2) == "你好"
        assert await second.next(2) == "你好"


async def test_redis_down_raises_cache_unavailable() -> None:
    dead = RedisCache(f"redis://127.0.0.1:{free_port()}/0")
    try:
        assert not await dead.ping()
        with pytest.raises(CacheUnavailable):
            await dead.hit("k", 1, 60)
        with pytest.raises(CacheUnavailable):
            await dead.set_if_absent("k", "v", 1)
    finally:
        await dead.close()


async def test_queue_hands_each_item_to_one_consumer(cache: Cache) -> None:
    queue = unique("queue")
    for item in ("a", "b", "c"):
        await cache.enqueue(queue, item)
    taken = [await cache.dequeue(queue, f"worker-{i}", 1) for i in range(3)]
    assert sorted(entry.item for entry in taken if entry) == ["a", "b", "c"]
    assert await cache.dequeue(queue, "worker-0", 0.1) is None
    for entry in taken:
        assert entry is not None
        await cache.ack(queue, entry)
