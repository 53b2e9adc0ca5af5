"""Fresh databases and Redis for a test: a SQLite file, or a new MariaDB database and the machine's Redis.

`DTBOT_TEST_MYSQL` (default `mysql://root@127.0.0.1:3306`) and `DTBOT_TEST_REDIS`
(default `redis://127.0.0.1:6379/9`) point at the services. When they are not
reachable the tests that need them skip, unless `DTBOT_REQUIRE_SERVICES=1`,
which makes them fail (CI sets it).
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pymysql
import pytest

MYSQL = os.environ.get("DTBOT_TEST_MYSQL", "mysql://root@127.0.0.1:3306")
REDIS = os.environ.get("DTBOT_TEST_REDIS", "redis://127.0.0.1:6379/9")
REQUIRED = os.environ.get("DTBOT_REQUIRE_SERVICES") == "1"


def reachable(url: str) -> bool:
    """True when something accepts TCP connections at the URL's host and port."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=1):
            return True
    except OSError:
        return False


def require(url: str, what: str) -> None:
    """Skip (or fail, under DTBOT_REQUIRE_SERVICES=1) when `url` is not reachable."""
    if not reachable(url):
        message = f"{what} is not reachable at {url}"
        if REQUIRED:
            pytest.fail(message + " and DTBOT_REQUIRE_SERVICES=1")
        pytest.skip(message)


@dataclass
class Backend:
    """What a server or a runtime under test is configured with."""

    name: str
    database_url: str
    redis_url: str = ""

    def env(self) -> dict[str, str]:
        """The environment variables that select this backend."""
        return {"DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url}


def _mysql_connection(url: str) -> pymysql.Connection:
    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        charset="utf8mb4",
        autocommit=True,
    )


def new_mysql_database() -> str:
    """The URL of a new, empty MariaDB database (the schema is made by the code under test)."""
    require(MYSQL, "MariaDB")
    name = f"dtbot_t_{secrets.token_hex(4)}"
    with _mysql_connection(MYSQL) as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    return f"{MYSQL}/{name}"


def drop_mysql_database(url: str) -> None:
    """Drop the database a test made."""
    name = urlsplit(url).path.lstrip("/")
    with _mysql_connection(MYSQL) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


def redis_url() -> str:
    """The test Redis, after checking it is there."""
    require(REDIS, "Redis")
    return REDIS


def sqlite_backend(directory: Path) -> Backend:
    """A new SQLite file with the in-process cache: the embedded default."""
    return Backend("sqlite", f"sqlite:///{directory / 'dtbot.db'}")
