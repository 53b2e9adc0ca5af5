"""Alembic migrations, applied by `dtbot serve` and `dtbot db upgrade`.

Migrations run with the synchronous driver before the event loop starts. On
MySQL the database is created if it is missing, and a named lock makes sure
that replicas starting together run the migrations once, one after another.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, exc, text

from dtbot.errors import DatabaseUnavailable
from dtbot.store.database import reason
from dtbot.store.urls import is_sqlite, redacted, sync_url

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> AlembicConfig:
    """An Alembic configuration pointing at our migrations and the given database."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = sync_url(url)
    return config


def _create_mysql_database(url: str) -> None:
    target = sync_url(url)
    if not target.database:
        return
    server = create_engine(target.set(database=""))
    try:
        with server.connect() as conn:
            create = f"CREATE DATABASE IF NOT EXISTS `{target.database}`"
            conn.execute(text(f"{create} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    finally:
        server.dispose()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`; raises `DatabaseUnavailable` naming the (redacted) URL."""
    try:
        if not is_sqlite(url):
            _create_mysql_database(url)
        command.upgrade(alembic_config(url), revision)
    except exc.OperationalError as error:
        raise DatabaseUnavailable(f"数据库连接异常 ({redacted(url)}): {reason(error)}") from None


def current_revision(url: str) -> str | None:
    """The revision the database is at, or None when it has none."""
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    """The newest revision this code knows."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
