"""SQL storage: models, the async engine, migrations."""

from dtbot.store.database import Database

__all__ = ["Database"]
