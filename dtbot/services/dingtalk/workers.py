"""The robot's workers: take queued messages, answer each once, hand back what a dead worker left.

Every process runs one consumer on the queue (Redis Streams with one consumer
group across replicas, or in-process) that takes a message only when one of
its `count` answer slots is free and answers it in a task of its own, and one
sweeper that puts messages back on the queue when they waited too long or
their worker's lease ran out. The inbox's conditional claim makes sure only
one worker answers. While Redis is unreachable the sweeper answers those
messages itself, in the same slots, so the robot keeps answering from the
inbox alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

from dtbot import logs
from dtbot.cache import Cache, QueueEntry
from dtbot.errors import CacheUnavailable, DatabaseUnavailable, DtbotError
from dtbot.metrics import QUEUE_AGE, QUEUE_DEPTH
from dtbot.services.dingtalk.inbox import ANSWERED, FAILED, QUEUED, Inbox
from dtbot.services.dingtalk.robot import QUEUE, RobotService
from dtbot.store.models import InboxMessage

MAX_ATTEMPTS = 3
SWEEP_SECONDS = 2.0
_log = logs.get("dingtalk.workers")


class RobotWorkers:
    """One queue consumer, up to `count` answers at once, and a sweeper: background tasks of a server process."""

    def __init__(self, robot: RobotService, inbox: Inbox, cache: Cache, *, count: int, requeue_seconds: float) -> None:
        self._robot = robot
        self._inbox = inbox
        self._cache = cache
        self._count = count
        self._requeue = timedelta(seconds=requeue_seconds)
        self.name = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._slots = asyncio.Semaphore(count)  # answers in progress; a message is taken only for a free slot
        self._tasks: list[asyncio.Task[None]] = []
        self._answering: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Begin consuming and sweeping."""
        self._tasks.append(asyncio.create_task(self._consume(), name="robot-consumer"))
        self._tasks.append(asyncio.create_task(self._sweep(), name="robot-sweeper"))

    async def stop(self) -> None:
        """Stop taking work; a message being answered keeps its lease and is picked up again later."""
        tasks = [*self._tasks, *self._answering]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    async def _consume(self) -> None:
        while True:
            await self._slots.acquire()  # leave messages on the queue (for other replicas) while all slots are busy
            try:
                entry = await self._cache.dequeue(QUEUE, self.name, 2.0)
            except (CacheUnavailable, DatabaseUnavailable) as error:
                self._slots.release()
                _log.warning("robot worker waiting: %s", error.message)
                await asyncio.sleep(1.0)
                continue
            except Exception:  # a bug must not stop the consumer; what it took comes back by the sweeper
                self._slots.release()
                _log.exception("robot consumer failed to take a message")
                await asyncio.sleep(1.0)
                continue
            if entry is None:
                self._slots.release()
                continue
            self._answer_in_slot(self.handle(entry, self.name), entry.item)

    def _answer_in_slot(self, work: Coroutine[Any, Any, None], inbox_id: str) -> None:
        """Run `work` (which holds an acquired slot) as its own task, releasing the slot when it ends."""
        task = asyncio.create_task(self._in_slot(work, inbox_id), name=f"robot-{inbox_id}")
        self._answering.add(task)
        task.add_done_callback(self._answering.discard)

    async def _in_slot(self, work: Coroutine[Any, Any, None], inbox_id: str) -> None:
        try:
            await work
        except (CacheUnavailable, DatabaseUnavailable) as error:
            _log.warning("robot worker waiting on %s: %s", inbox_id, error.message)
        except Exception:  # a bug with one message must not stop the others; its lease hands it on
            _log.exception("robot worker failed on %s", inbox_id)
        finally:
            self._slots.release()

    async def handle(self, entry: QueueEntry, worker: str) -> None:
        """Claim and answer one message (if nobody else has), then acknowledge it on the queue."""
        await self._claim_and_answer(entry.item, worker)
        await self._cache.ack(QUEUE, entry)

    async def _claim_and_answer(self, inbox_id: str, worker: str) -> None:
        row = await self._inbox.claim(inbox_id, worker)
        if row is not None:
            await self._answer(row, worker)

    async def _answer(self, row: InboxMessage, worker: str) -> None:
        renewing = asyncio.create_task(self._renew(row.id, worker))
        try:
            via = None
            if row.reply is None:  # a retry after a failed delivery does not ask the model again
                row.reply, row.conversation_id, via = await self._robot.compose(row)
                await self._inbox.keep_reply(row.id, worker, row.reply, row.conversation_id)
            via = via or await self._robot.deliver(row, row.reply)
        except DtbotError as error:
            status = FAILED if row.attempts >= MAX_ATTEMPTS else QUEUED
            _log.warning("answering %s failed (attempt %d): %s", row.msg_id, row.attempts, error.message)
            await self._inbox.settle(row.id, worker, status=status, error=error.message)
        else:
            await self._inbox.settle(row.id, worker, status=ANSWERED, via=via)
        finally:
            renewing.cancel()

    async def _renew(self, inbox_id: str, worker: str) -> None:
        while True:
            await asyncio.sleep(self._inbox.lease.total_seconds() / 3)
            with contextlib.suppress(DatabaseUnavailable):
                await self._inbox.renew(inbox_id, worker)

    async def _sweep(self) -> None:
        while True:
            with contextlib.suppress(CacheUnavailable, DatabaseUnavailable):
                depth, age = await self._inbox.backlog()
                QUEUE_DEPTH.set(depth)
                QUEUE_AGE.set(age)
                for inbox_id in await self._inbox.stale(self._requeue):
                    await self._requeue_or_answer(inbox_id)
            await asyncio.sleep(SWEEP_SECONDS)

    async def _requeue_or_answer(self, inbox_id: str) -> None:
        try:
            await self._cache.enqueue(QUEUE, inbox_id)
        except CacheUnavailable:
            if not self._slots.locked():  # else the next sweep offers it again
                await self._slots.acquire()
                self._answer_in_slot(self._claim_and_answer(inbox_id, f"{self.name}-unqueued"), inbox_id)
