"""State shared between processes: config changes from the CLI, rate limits across replicas."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import provision, started
from tests.support.backends import Backend
from tests.support.servers import Server, child_env

PROPAGATION_SECONDS = 2.0  # the promise: every running server applies a change within two seconds


def cli(backend: Backend, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `dtbot …` as an operator would, on the backend's database."""
    return subprocess.run(
        [sys.executable, "-m", "dtbot", *args],
        env=child_env(backend.env()),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def config_seen(server: Server, key: str) -> object:
    with server.client() as admin:
        return admin.get("/config").json()["data"][key]


@pytest.mark.parametrize("kind", ["sqlite", "mysql"])
def test_cli_config_change_reaches_running_servers(tmp_path: Path, kind: str) -> None:
    with provision(kind, tmp_path) as backend, started(tmp_path, backend) as first:
        second = None
        if kind == "mysql":  # a replica on the same MariaDB and Redis
            second = Server(tmp_path, backend)
            second.admin_key = first.admin_key
            second.start()
        try:
            assert config_seen(first, "maxTokensPerRequest") == 4000
            changed = cli(backend, "config", "set", "maxTokensPerRequest", "12345")
            assert changed.returncode == 0, changed.stderr
            deadline = time.monotonic() + PROPAGATION_SECONDS
            servers = [first] + ([second] if second else [])
            pending = set(range(len(servers)))
            while pending and time.monotonic() < deadline:
                pending = {i for i in pending if config_seen(servers[i], "maxTokensPerRequest") != 12345}
                time.sleep(0.05)
            assert not pending, f"servers {pending} still had the old value after {PROPAGATION_SECONDS}s"
        finally:
            if second:
                second.stop()


def hit(server: Server, key: str) -> int:
    with server.client(key) as client:
        return client.get("/config").status_code


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    with provision("sqlite", tmp_path) as backend, started(tmp_path, backend, API_RATE_LIMIT="3") as server:
        with server.client() as admin:
            key = admin.post("/keys", json={"name": "limited", "role": "admin"}).json()["data"]["key"]
        assert [hit(server, key) for _ in range(3)] == [200, 200, 200]
        with server.client(key) as client:
            refused = client.get("/config")
        assert refused.status_code == 429
        assert refused.json()["code"] == 42901
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert hit(server, server.admin_key or "") == 200  # another key has its own budget


def test_rate_limit_is_shared_by_two_servers_on_redis(tmp_path: Path) -> None:
    with (
        provision("mysql", tmp_path) as backend,
        started(tmp_path, backend, API_RATE_LIMIT="4") as first,
        started(tmp_path, backend, API_RATE_LIMIT="4") as second,
    ):
        with first.client() as admin:
            key = admin.post("/keys", json={"name": "shared", "role": "admin"}).json()["data"]["key"]
        statuses = [hit(first, key), hit(second, key), hit(first, key), hit(second, key)]
        assert statuses == [200, 200, 200, 200]
        assert hit(second, key) == 429
        assert hit(first, key) == 429
