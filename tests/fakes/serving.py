"""What every fake server shares: running in the test's loop, or in a thread of its own."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self


class ServedFake:
    """A fake with async `start()` and `stop()`; usable as `async with` or, for blocking callers, `in_thread()`."""

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @classmethod
    @contextmanager
    def in_thread(cls, *args: Any, **options: Any) -> Iterator[Self]:
        """A fake serving from its own thread and loop (for a `dtbot serve` subprocess or blocking clients)."""
        fake = cls(*args, **options)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name=f"{cls.__name__}-loop", daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
            yield fake
        finally:
            asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
            loop.close()
