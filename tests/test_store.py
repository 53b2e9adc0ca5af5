"""Migrations and storage on SQLite and MariaDB: schema, utf8mb4 round trips, WAL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import select

from dtbot.clock import utcnow
from dtbot.ids import new_id
from dtbot.services.runtime import Runtime
from dtbot.store import migrate
from dtbot.store.models import Conversation, Message
from tests.conftest import run_on
from tests.support.backends import Backend

TEXT = "你好，世界 👋🏽 — emoji and 中文 survive"


def test_migrations_reach_head_and_are_idempotent(backend: Backend) -> None:
    migrate.upgrade(backend.database_url)
    migrate.upgrade(backend.database_url)
    assert migrate.current_revision(backend.database_url) == migrate.head_revision()


def test_chinese_and_emoji_round_trip(backend: Backend) -> None:
    migrate.upgrade(backend.database_url)

    async def store_and_read(rt: Runtime) -> str:
        now = utcnow()
        conversation = Conversation(id=new_id("conv"), title=TEXT, model="glm-4", created_at=now, updated_at=now)
        async with rt.db.session() as session:
            session.add(conversation)
            session.add(
                Message(
                    id=new_id("msg"), conversation_id=conversation.id, role="user", content=TEXT * 1000, created_at=now
                )
            )
            await session.commit()
        async with rt.db.session() as session:
            title = await session.scalar(select(Conversation.title).where(Conversation.id == conversation.id))
            content = await session.scalar(select(Message.content).where(Message.conversation_id == conversation.id))
        assert content == TEXT * 1000
        return title or ""

    assert run_on(backend, store_and_read) == TEXT


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'wal.db'}"
    migrate.upgrade(url)
    run_on(Backend("sqlite", url), lambda rt: rt.settings.load())
    with sqlite3.connect(tmp_path / "wal.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
