"""Conversations: stored history that the gateway, the REPL and the DingTalk robot chat inside.

A conversation belongs to the API key that created it: another user key gets
404 for it and never sees it listed; admin keys and the CLI (no key) see all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Annotated

from msgspec import Meta, Struct, field
from sqlalchemy import Select, delete, exists, func, or_, select, update

from dtbot.clock import local, utcnow
from dtbot.errors import InvalidParameter, NotFound
from dtbot.ids import new_id
from dtbot.services.keys import Principal
from dtbot.services.models import ModelService
from dtbot.services.settings import SettingsService
from dtbot.store import Database
from dtbot.store.models import Conversation, Message
from dtbot.tokens import ROLE_TOKENS, TOKENS_PER_MESSAGE, count_text

MAX_PAGE = 100  # rows per page
MAX_PAGE_NUMBER = 1_000_000
HISTORY_PAGE = 200  # messages read at a time when building a model's context


class ConversationIn(Struct, kw_only=True, forbid_unknown_fields=True):
    """`POST /api/conversations`: every field optional but the model must be in the catalog."""

    user_id: Annotated[str, Meta(max_length=128)] = field(default="", name="userId")
    title: Annotated[str, Meta(max_length=255)] = ""
    model: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    system_prompt: Annotated[str, Meta(max_length=100_000)] = field(default="", name="systemPrompt")
    max_tokens: Annotated[int, Meta(ge=1)] | None = field(default=None, name="maxTokens")
    temperature: Annotated[float, Meta(ge=0, le=2)] | None = None


class ConversationOut(Struct, rename="camel", kw_only=True):
    """A conversation in the document's shape (plus `maxTokens` and `temperature`)."""

    conversation_id: str
    user_id: str
    title: str
    model: str
    system_prompt: str
    max_tokens: int | None
    temperature: float | None
    created_at: datetime
    updated_at: datetime
    message_count: int
    token_usage: int


class MessageOut(Struct, rename="camel", kw_only=True):
    message_id: str
    role: str
    content: str
    timestamp: datetime
    tokens: int
    cut_off: bool = False


class Pagination(Struct, rename="camel", kw_only=True):
    total: int
    page: int
    limit: int
    total_pages: int


class ConversationPage(Struct, kw_only=True):
    conversations: list[ConversationOut]
    pagination: Pagination


class MessagePage(Struct, rename="camel", kw_only=True):
    conversation_id: str
    messages: list[MessageOut]
    total_tokens: int
    pagination: Pagination


@dataclass(frozen=True, slots=True)
class Turn:
    """A message to append, with its token count."""

    role: str
    content: str
    tokens: int
    cut_off: bool = False

    @property
    def cost(self) -> int:
        """Its tokens in a prompt, with the message's framing (an estimate on the safe side)."""
        return self.tokens + TOKENS_PER_MESSAGE + ROLE_TOKENS


def _escape_like(text: str) -> str:
    r"""`text` with LIKE's wildcards taken literally (escape character `\`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _check_page(page: int, limit: int) -> None:
    if not 1 <= page <= MAX_PAGE_NUMBER:
        raise InvalidParameter(f"参数格式错误: page: must be between 1 and {MAX_PAGE_NUMBER}")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidParameter(f"参数格式错误: limit: must be between 1 and {MAX_PAGE}")


def _pagination(total: int, page: int, limit: int) -> Pagination:
    return Pagination(total=total, page=page, limit=limit, total_pages=math.ceil(total / limit) if total else 0)


class ConversationService:
    """Create, list, read and delete conversations, and append their turns."""

    def __init__(self, db: Database, models: ModelService, settings: SettingsService, zone: tzinfo) -> None:
        self._db = db
        self._models = models
        self._settings = settings
        self._zone = zone

    def _out(self, row: Conversation) -> ConversationOut:
        return ConversationOut(
            conversation_id=row.id,
            user_id=row.user_id,
            title=row.title,
            model=row.model,
            system_prompt=row.system_prompt,
            max_tokens=row.max_tokens,
            temperature=row.temperature,
            created_at=local(row.created_at, self._zone),
            updated_at=local(row.updated_at, self._zone),
            message_count=row.message_count,
            token_usage=row.token_usage,
        )

    @staticmethod
    def _visible(query: Select, owner: Principal | None) -> Select:
        if owner is None or owner.is_admin:
            return query
        return query.where(Conversation.owner_key_id == owner.key_id)

    async def create(
        self, data: ConversationIn, owner: Principal | None, *, source: str = "api", external_key: str | None = None
    ) -> ConversationOut:
        """A new conversation; a missing model takes the runtime `defaultModel`, an unknown one is 40004.

        `external_key` ties it to something outside (a DingTalk chat and sender); `latest_for` finds it again.
        """
        model = data.model or self._settings.current.default_model
        self._models.require_known(model)
        now = utcnow()
        row = Conversation(
            id=new_id("conv"),
            owner_key_id=owner.key_id if owner else None,
            user_id=data.user_id,
            title=data.title.strip(),
            model=model,
            system_prompt=data.system_prompt,
            max_tokens=data.max_tokens,
            temperature=data.temperature,
            source=source,
            external_key=external_key,
            message_count=0,
            token_usage=0,
            created_at=now,
            updated_at=now,
        )
        async with self._db.session() as session:
            session.add(row)
            await session.commit()
        return self._out(row)

    async def latest_for(self, external_key: str) -> ConversationOut | None:
        """The newest conversation made for `external_key`, if any."""
        query = (
            select(Conversation)
            .where(Conversation.external_key == external_key)
            .order_by(Conversation.created_at.desc(), Conversation.id.desc())
            .limit(1)
        )
        async with self._db.session() as session:
            found = await session.scalar(query)
        return None if found is None else self._out(found)

    async def row(self, conversation_id: str, owner: Principal | None) -> Conversation:
        """The stored conversation; 404 when missing or someone else's."""
        query = self._visible(select(Conversation).where(Conversation.id == conversation_id), owner)
        async with self._db.session() as session:
            found = await session.scalar(query)
        if found is None:
            raise NotFound(f"会话不存在: {conversation_id}")
        return found

    async def get(self, conversation_id: str, owner: Principal | None) -> ConversationOut:
        """One conversation."""
        return self._out(await self.row(conversation_id, owner))

    async def list(
        self,
        owner: Principal | None,
        *,
        user_id: str | None = None,
        search: str | None = None,
        page: int = 1,
        limit: int = 20,
    ) -> ConversationPage:
        """Newest first by `updatedAt`; `search` matches titles and message text."""
        _check_page(page, limit)
        query = self._visible(select(Conversation), owner)
        if user_id:
            query = query.where(Conversation.user_id == user_id)
        if search:
            pattern = f"%{_escape_like(search)}%"
            in_messages = exists().where(
                Message.conversation_id == Conversation.id, Message.content.like(pattern, escape="\\")
            )
            query = query.where(or_(Conversation.title.like(pattern, escape="\\"), in_messages))
        async with self._db.session() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = await session.scalars(
                query.order_by(Conversation.updated_at.desc(), Conversation.id.desc())
                .offset((page - 1) * limit)
                .limit(limit)
            )
            conversations = [self._out(row) for row in rows]
        return ConversationPage(conversations=conversations, pagination=_pagination(total, page, limit))

    async def messages(
        self, conversation_id: str, owner: Principal | None, *, page: int = 1, limit: int = 100
    ) -> MessagePage:
        """A page of the messages, oldest first, and the conversation's total tokens."""
        _check_page(page, limit)
        conversation = await self.row(conversation_id, owner)
        query = (
            select(Message)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at, Message.id)
            .offset((page - 1) * limit)
            .limit(limit)
        )
        async with self._db.session() as session:
            rows = await session.scalars(query)
            messages = [
                MessageOut(
                    message_id=m.id,
                    role=m.role,
                    content=m.content,
                    timestamp=local(m.created_at, self._zone),
                    tokens=m.tokens,
                    cut_off=m.cut_off,
                )
                for m in rows
            ]
        return MessagePage(
            conversation_id=conversation_id,
            messages=messages,
            total_tokens=conversation.token_usage,
            pagination=_pagination(conversation.message_count, page, limit),
        )

    async def history(self, conversation_id: str, budget: int) -> list[Turn]:
        """The newest stored messages, oldest first, whose whole turns could fit in `budget` tokens.

        Read newest first, a page at a time, until the budget is spent: a long conversation costs no
        more than its recent part. A turn only partly read (it would not fit anyway) is left out.
        """
        query = (
            select(Message.role, Message.content, Message.tokens, Message.cut_off)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(HISTORY_PAGE)
        )
        newest: list[Turn] = []
        async with self._db.session() as session:
            while budget >= 0:
                page = [Turn(*row) for row in (await session.execute(query.offset(len(newest)))).all()]
                newest += page
                budget -= sum(turn.cost for turn in page)
                if len(page) < HISTORY_PAGE:
                    return newest[::-1]
        oldest_first = newest[::-1]
        start = next((i for i, turn in enumerate(oldest_first) if turn.role == "user"), len(oldest_first))
        return oldest_first[start:]

    async def update(
        self,
        conversation_id: str,
        owner: Principal | None,
        *,
        model: str | None = None,
        system_prompt: str | None = None,
    ) -> ConversationOut:
        """Switch the model (40004 when unknown) or replace the system prompt."""
        if model is not None:
            self._models.require_known(model)
        row = await self.row(conversation_id, owner)
        changes = {"model": model, "system_prompt": system_prompt}
        async with self._db.session() as session:
            for name, value in changes.items():
                if value is not None:
                    setattr(row, name, value)
            row.updated_at = utcnow()
            await session.merge(row)
            await session.commit()
        return self._out(row)

    async def delete(self, conversation_id: str, owner: Principal | None) -> None:
        """Remove the conversation and its messages."""
        await self.row(conversation_id, owner)
        async with self._db.session() as session:
            await session.execute(delete(Message).where(Message.conversation_id == conversation_id))
            await session.execute(delete(Conversation).where(Conversation.id == conversation_id))
            await session.commit()

    async def append(self, conversation_id: str, turns: Sequence[Turn]) -> None:
        """Store new messages and update the counters and `updatedAt`, in one transaction."""
        now = utcnow()
        async with self._db.session() as session:
            for offset, turn in enumerate(turns):  # a microsecond apart, so they read back in order
                session.add(
                    Message(
                        id=new_id("msg"),
                        conversation_id=conversation_id,
                        role=turn.role,
                        content=turn.content,
                        tokens=turn.tokens,
                        cut_off=turn.cut_off,
                        created_at=now + timedelta(microseconds=offset),
                    )
                )
            await session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(
                    message_count=Conversation.message_count + len(turns),
                    token_usage=Conversation.token_usage + sum(turn.tokens for turn in turns),
                    updated_at=now,
                )
            )
            await session.commit()


def turn(role: str, content: str, *, cut_off: bool = False) -> Turn:
    """A turn with its token count from the offline tokenizer."""
    return Turn(role, content, count_text(content), cut_off)
