"""Alembic environment: runs migrations on the URL given by `dtbot.store.migrate`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

from dtbot.store.models import Base

_LOCK = "dtbot_migrations"


def run() -> None:
    url = context.config.attributes["url"]
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        mysql = connection.dialect.name == "mysql"
        if mysql:
            # Replicas that start together take turns; the later ones find nothing to do.
            connection.execute(text("SELECT GET_LOCK(:name, 300)"), {"name": _LOCK})
            connection.commit()
        try:
            context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=not mysql)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if mysql:
                connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _LOCK})
                connection.commit()
    engine.dispose()


run()
