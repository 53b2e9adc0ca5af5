"""The async engine and sessions, with connection failures turned into `DatabaseUnavailable`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from dtbot.errors import DatabaseUnavailable
from dtbot.store.urls import async_url, is_sqlite

# Errors that mean "the database cannot be reached", as opposed to a bug in a query.
_UNREACHABLE = (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError, exc.TimeoutError, OSError)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def reason(error: BaseException) -> str:
    """The driver's own first line for a failure (it names host and cause, never the password)."""
    cause = getattr(error, "orig", None) or error
    return (str(cause).splitlines() or [type(cause).__name__])[0]


class Database:
    """One engine and session factory for the process."""

    def __init__(self, url: str, *, pool_size: int = 10, connect_timeout: float = 5.0) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        if self.sqlite:
            # One connection: SQLite has one writer, and a second connection waiting for the lock sleeps in
            # SQLite's busy handler (tens to hundreds of ms); queueing for the pooled connection is a fair,
            # prompt wait instead. Other processes (the CLI) still wait through busy_timeout.
            self.engine = create_async_engine(
                async_url(url), pool_size=1, max_overflow=0, pool_timeout=60, connect_args={"timeout": 30}
            )
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_async_engine(
                async_url(url),
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
                pool_recycle=3600,
                pool_timeout=connect_timeout,
                connect_args={"connect_timeout": connect_timeout},
            )
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.connect_timeout = connect_timeout

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session; connection failures surface as `DatabaseUnavailable` (50002)."""
        try:
            async with self._sessions() as session:
                yield session
        except _UNREACHABLE as error:
            raise DatabaseUnavailable(f"数据库连接异常: {reason(error)}") from error

    async def ping(self) -> bool:
        """True when a trivial query answers within the connect timeout."""
        try:
            async with asyncio.timeout(self.connect_timeout), self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (*_UNREACHABLE, exc.DBAPIError):
            return False
        return True

    async def close(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
