"""Listing one user's conversations stays fast as they grow: an index-backed query, not a scan.

Measures `ConversationService.list` (first page, a middle page, and a search)
for a user with 100 conversations and for one with 10,000, in one database
that also holds 10,000 conversations of other users, and prints the ratio
(about 1x for the page queries means the index does the work; the total count
grows with the user's rows, which is what an index range count costs). It also
prints the database's query plan. Run on SQLite, and on MariaDB when reachable:

    .venv/bin/python bench/conversations.py [--mysql mysql://root@127.0.0.1:3306]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, text

from dtbot.clock import utcnow
from dtbot.config import load_config
from dtbot.ids import new_id
from dtbot.services.runtime import Runtime, open_runtime
from dtbot.store import migrate
from dtbot.store.models import Conversation

SMALL, LARGE, OTHERS = 100, 10_000, 10_000
RUNS = 30


async def fill(runtime: Runtime, user: str, count: int) -> None:
    now = utcnow()
    rows = [
        {
            "id": new_id("conv"),
            "owner_key_id": None,
            "user_id": user,
            "title": f"会话 {i} about topic {i % 97}",
            "model": "gpt-4",
            "system_prompt": "",
            "source": "bench",
            "message_count": 0,
            "token_usage": 0,
            "created_at": now - timedelta(seconds=count - i),
            "updated_at": now - timedelta(seconds=count - i),
        }
        for i in range(count)
    ]
    async with runtime.db.session() as session:
        for start in range(0, len(rows), 1000):
            await session.execute(insert(Conversation), rows[start : start + 1000])
        await session.commit()


async def median_ms(work: Callable[[], Awaitable[object]]) -> float:
    await work()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def plan(runtime: Runtime) -> str:
    query = "SELECT id FROM conversations WHERE user_id = 'large' ORDER BY updated_at DESC, id DESC LIMIT 20"
    prefix = "EXPLAIN QUERY PLAN " if runtime.db.sqlite else "EXPLAIN "
    async with runtime.db.session() as session:
        rows = (await session.execute(text(prefix + query))).all()
    return "; ".join(" ".join(str(v) for v in row if v is not None) for row in rows)


async def measure(url: str) -> None:
    migrate.upgrade(url)
    async with open_runtime(load_config(environ={"DATABASE_URL": url})) as runtime:
        await fill(runtime, "small", SMALL)
        await fill(runtime, "large", LARGE)
        await fill(runtime, "others", OTHERS)
        cases = {
            "first page": lambda user: runtime.conversations.list(None, user_id=user, page=1, limit=20),
            "page 3": lambda user: runtime.conversations.list(None, user_id=user, page=3, limit=20),
            "search title": lambda user: runtime.conversations.list(None, user_id=user, search="topic 42", limit=20),
        }
        print(f"\n{url.split('://')[0]}: one user with {SMALL:,} vs {LARGE:,} conversations (+{OTHERS:,} others')")
        print(f"{'query':<14}{'100 (ms)':>10}{'10,000 (ms)':>13}{'ratio':>8}")
        for name, case in cases.items():
            small = await median_ms(lambda case=case: case("small"))
            large = await median_ms(lambda case=case: case("large"))
            print(f"{name:<14}{small:>10.2f}{large:>13.2f}{large / small:>7.1f}x")
        print(f"plan: {await plan(runtime)}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mysql", help="a MariaDB/MySQL server URL without database, e.g. mysql://root@127.0.0.1:3306")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        await measure(f"sqlite:///{Path(directory) / 'bench.db'}")
    if args.mysql:
        url = f"{args.mysql.rstrip('/')}/dtbot_bench_{new_id('x')[-6:]}"
        try:
            await measure(url)
        finally:
            from sqlalchemy import create_engine

            from dtbot.store.urls import sync_url

            engine = create_engine(sync_url(url).set(database=""))
            with engine.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{sync_url(url).database}`"))
            engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
