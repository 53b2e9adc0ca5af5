"""Health when a dependency is down: Redis down is `degraded` (200), the database down is 503, and back."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.conftest import started
from tests.support.backends import MYSQL, Backend, drop_mysql_database, new_mysql_database, redis_url
from tests.support.proxy import TcpProxy
from tests.support.servers import free_port


def wait_for_status(base: str, status: int, seconds: float = 15) -> httpx.Response:
    """Poll `/health` until it answers `status` (health checks have their own timeouts)."""
    deadline = time.monotonic() + seconds
    while True:
        response = httpx.get(f"{base}/health", timeout=10)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def test_redis_configured_but_down_is_degraded_and_requests_still_work(tmp_path: Path) -> None:
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    backend = Backend("sqlite-dead-redis", f"sqlite:///{tmp_path / 'd.db'}", dead_redis)
    with started(tmp_path, backend) as server:
        response = httpx.get(f"{server.base}/health", timeout=10)
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "degraded"
        assert body["services"] == body["services"] | {"database": "healthy", "redis": "unhealthy"}
        with server.client() as admin:  # rate limits fail open while Redis is away
            assert admin.get("/config").status_code == 200


def test_database_down_is_503_and_recovers_without_restart(tmp_path: Path) -> None:
    url = new_mysql_database()
    parts = urlsplit(MYSQL)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 3306).start()
    proxied = url.replace(f"{parts.hostname}:{parts.port}", f"127.0.0.1:{proxy.port}")
    try:
        with started(tmp_path, Backend("mysql-proxied", proxied, redis_url())) as server:
            assert wait_for_status(server.base, 200).json()["status"] == "healthy"
            wrong = server.client("dtb_not-a-key-of-this-server")
            assert wrong.get("/models").json()["code"] == 40001
            proxy.cut()
            down = wait_for_status(server.base, 503)
            assert down.status_code == 503
            assert down.json()["status"] == "unhealthy"
            assert down.json()["services"]["database"] == "unhealthy"
            with server.client() as admin:
                failed = admin.get("/stats")
            assert failed.status_code == 503 and failed.json()["code"] == 50002
            # A key refused a moment ago is refused again without the database: wrong keys cost no queries.
            assert wrong.get("/models").json()["code"] == 40001
            wrong.close()
            proxy.restore()
            assert wait_for_status(server.base, 200).json()["status"] == "healthy"
            with server.client() as admin:
                assert admin.get("/stats").status_code == 200
    finally:
        proxy.close()
        drop_mysql_database(url)
