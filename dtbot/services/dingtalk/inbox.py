"""The DingTalk inbox: every received message, its state and its reply; the source of exactly-once.

A message is stored once (its `msgId` is unique), then claimed by one worker
with a lease that the worker renews while it works. A message whose worker
died goes back to the queue when its lease runs out, so it is answered after
a restart or by another replica, and the conditional claim keeps it to one.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

import msgspec
from msgspec import Struct
from sqlalchemy import exc, func, or_, select, update

from dtbot.clock import as_utc, local, utcnow
from dtbot.dingtalk.messages import IncomingMessage
from dtbot.ids import new_id
from dtbot.store import Database
from dtbot.store.models import InboxMessage

QUEUED, PROCESSING, ANSWERED, FAILED = "queued", "processing", "answered", "failed"
STATUSES = (QUEUED, PROCESSING, ANSWERED, FAILED)


class InboxEntry(Struct, rename="camel", kw_only=True):
    """A received message as the CLI and dashboard list it."""

    id: str
    msg_id: str
    chat_id: str
    chat_type: str
    sender_id: str
    sender_nick: str
    text: str
    status: str
    attempts: int
    reply: str | None
    delivered_via: str | None
    error: str | None
    conversation_id: str | None
    created_at: datetime
    updated_at: datetime


def sender_of(message: IncomingMessage) -> str:
    """Who sent it: the staff id when DingTalk gives one (it is what OpenAPI sends and @ take), else the sender id."""
    return message.sender_staff_id or message.sender_id or ""


def _ms(value: int | None) -> datetime | None:
    return None if not value else datetime.fromtimestamp(value / 1000, tz=utcnow().tzinfo)


class Inbox:
    """Stores, claims and settles received messages."""

    def __init__(self, db: Database, zone: tzinfo, *, lease_seconds: float) -> None:
        self._db = db
        self._zone = zone
        self.lease = timedelta(seconds=lease_seconds)

    async def add(
        self,
        message: IncomingMessage,
        text: str,
        *,
        status: str = QUEUED,
        reply: str | None = None,
        via: str | None = None,
    ) -> str | None:
        """Store a new message and return its id; None when its `msgId` was stored before."""
        now = utcnow()
        row = InboxMessage(
            id=new_id("in"),
            msg_id=message.msg_id,
            chat_id=message.conversation_id,
            chat_type=message.conversation_type,
            sender_id=sender_of(message),
            sender_nick=message.sender_nick or "",
            text=text,
            payload=msgspec.to_builtins(message),
            session_webhook=message.session_webhook or "",
            session_webhook_expires_at=_ms(message.session_webhook_expired_time),
            status=status,
            attempts=0,
            reply=reply,
            delivered_via=via,
            created_at=now,
            updated_at=now,
        )
        async with self._db.session() as session:
            session.add(row)
            try:
                await session.commit()
            except exc.IntegrityError:
                return None
        return row.id

    async def claim(self, inbox_id: str, worker: str) -> InboxMessage | None:
        """Take a queued message (or one whose worker's lease ran out) for `worker`; None if someone has it."""
        now = utcnow()
        claimable = or_(
            InboxMessage.status == QUEUED,
            (InboxMessage.status == PROCESSING) & (InboxMessage.lease_until < now),
        )
        statement = (
            update(InboxMessage)
            .where(InboxMessage.id == inbox_id, claimable)
            .values(
                status=PROCESSING,
                worker=worker,
                lease_until=now + self.lease,
                attempts=InboxMessage.attempts + 1,
                updated_at=now,
            )
        )
        async with self._db.session() as session:
            claimed = (await session.execute(statement)).rowcount
            await session.commit()
            if claimed != 1:
                return None
            return await session.get(InboxMessage, inbox_id)

    async def renew(self, inbox_id: str, worker: str) -> None:
        """Extend `worker`'s lease while it is still working."""
        now = utcnow()
        async with self._db.session() as session:
            await session.execute(
                update(InboxMessage)
                .where(InboxMessage.id == inbox_id, InboxMessage.worker == worker, InboxMessage.status == PROCESSING)
                .values(lease_until=now + self.lease, updated_at=now)
            )
            await session.commit()

    async def keep_reply(self, inbox_id: str, worker: str, reply: str, conversation_id: str) -> None:
        """Store the model's reply before delivering it, so a retry only delivers."""
        await self._update(inbox_id, worker, reply=reply, conversation_id=conversation_id)

    async def settle(
        self, inbox_id: str, worker: str, *, status: str, via: str | None = None, error: str | None = None
    ) -> None:
        """Record the outcome: answered (with how it was delivered), failed, or back to queued for a retry."""
        await self._update(inbox_id, worker, status=status, delivered_via=via, error=error, lease_until=None)

    async def _update(self, inbox_id: str, worker: str, **values: object) -> None:
        async with self._db.session() as session:
            await session.execute(
                update(InboxMessage)
                .where(InboxMessage.id == inbox_id, InboxMessage.worker == worker)
                .values(**values, updated_at=utcnow())
            )
            await session.commit()

    async def stale(self, older_than: timedelta, limit: int = 100) -> list[str]:
        """Messages to hand out again: queued for a while, or processing under a lease that ran out."""
        now = utcnow()
        query = (
            select(InboxMessage.id)
            .where(
                or_(
                    (InboxMessage.status == QUEUED) & (InboxMessage.updated_at < now - older_than),
                    (InboxMessage.status == PROCESSING) & (InboxMessage.lease_until < now),
                )
            )
            .order_by(InboxMessage.created_at)
            .limit(limit)
        )
        async with self._db.session() as session:
            return list(await session.scalars(query))

    async def backlog(self) -> tuple[int, float]:
        """How many messages are not answered yet, and the oldest one's age in seconds."""
        waiting = InboxMessage.status.in_((QUEUED, PROCESSING))
        query = select(func.count(), func.min(InboxMessage.created_at)).where(waiting)
        async with self._db.session() as session:
            count, oldest = (await session.execute(query)).one()
        age = 0.0 if oldest is None else (utcnow() - as_utc(oldest)).total_seconds()
        return int(count), age

    async def recent(self, *, status: str | None = None, limit: int = 20) -> list[InboxEntry]:
        """The latest messages, newest first."""
        query = select(InboxMessage).order_by(InboxMessage.created_at.desc()).limit(limit)
        if status:
            query = query.where(InboxMessage.status == status)
        async with self._db.session() as session:
            return [self._entry(row) for row in await session.scalars(query)]

    async def by_msg_id(self, msg_id: str) -> InboxEntry | None:
        """One message by DingTalk's id (for `dtbot dingtalk simulate`)."""
        async with self._db.session() as session:
            row = await session.scalar(select(InboxMessage).where(InboxMessage.msg_id == msg_id))
        return None if row is None else self._entry(row)

    def _entry(self, row: InboxMessage) -> InboxEntry:
        return InboxEntry(
            id=row.id,
            msg_id=row.msg_id,
            chat_id=row.chat_id,
            chat_type=row.chat_type,
            sender_id=row.sender_id,
            sender_nick=row.sender_nick,
            text=row.text,
            status=row.status,
            attempts=row.attempts,
            reply=row.reply,
            delivered_via=row.delivered_via,
            error=row.error,
            conversation_id=row.conversation_id,
            created_at=local(row.created_at, self._zone),
            updated_at=local(row.updated_at, self._zone),
        )
