"""Turn the configured `DATABASE_URL` into SQLAlchemy URLs for the async and sync drivers."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

_ASYNC = {"sqlite": "sqlite+aiosqlite", "mysql": "mysql+aiomysql"}
_SYNC = {"sqlite": "sqlite+pysqlite", "mysql": "mysql+pymysql"}


def _family(url: URL) -> str:
    backend = url.get_backend_name()
    return "mysql" if backend in ("mysql", "mariadb") else backend


def _with_driver(raw: str, drivers: dict[str, str]) -> URL:
    url = make_url(raw)
    family = _family(url)
    url = url.set(drivername=drivers[family])
    if family == "mysql":
        url = url.update_query_dict({"charset": "utf8mb4"})
    return url


def async_url(raw: str) -> URL:
    """The URL for the running app: aiosqlite or aiomysql, utf8mb4 on MySQL."""
    return _with_driver(raw, _ASYNC)


def sync_url(raw: str) -> URL:
    """The URL for migrations, which run before the event loop: pysqlite or PyMySQL."""
    return _with_driver(raw, _SYNC)


def is_sqlite(raw: str) -> bool:
    """True for the embedded default."""
    return _family(make_url(raw)) == "sqlite"


def redacted(raw: str) -> str:
    """The URL with its password hidden, for messages."""
    return make_url(raw).render_as_string(hide_password=True)
