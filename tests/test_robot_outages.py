"""The DingTalk robot while its database or Redis is down: nothing acknowledged is lost, and it recovers.

A callback the server cannot store is refused (503) before it is acknowledged,
so DingTalk sends it again; the retry, with the same msgId, must then be
answered exactly once. The database and Redis are reached through TCP proxies
the tests cut and restore.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.conftest import started
from tests.fakes.dingtalk import FakeDingTalk
from tests.fakes.llm import FakeLLM
from tests.support.backends import MYSQL, Backend, drop_mysql_database, new_mysql_database, redis_url
from tests.support.proxy import TcpProxy
from tests.support.servers import Server
from tests.test_dingtalk_robot import nonce_headers, payload_for, post, replies, robot_env
from tests.test_health_faults import wait_for_status


@contextmanager
def proxied_backend() -> Iterator[tuple[Backend, TcpProxy, TcpProxy]]:
    """A fresh MariaDB database and the test Redis, each behind a proxy that can be cut."""
    url = new_mysql_database()
    db_parts, redis_parts = urlsplit(MYSQL), urlsplit(redis_url())
    db_proxy = TcpProxy(db_parts.hostname or "127.0.0.1", db_parts.port or 3306).start()
    redis_proxy = TcpProxy(redis_parts.hostname or "127.0.0.1", redis_parts.port or 6379).start()
    database = url.replace(f"{db_parts.hostname}:{db_parts.port}", f"127.0.0.1:{db_proxy.port}")
    cache = redis_url().replace(f"{redis_parts.hostname}:{redis_parts.port}", f"127.0.0.1:{redis_proxy.port}")
    try:
        yield Backend("mysql-proxied", database, cache), db_proxy, redis_proxy
    finally:
        db_proxy.close()
        redis_proxy.close()
        drop_mysql_database(url)


def answered_once(server: Server, fake: FakeDingTalk, payload: dict, session: str, seconds: float = 15) -> None:
    """The callback is acknowledged and, after a while, exactly one reply has reached the session."""
    assert post(server, payload).status_code == 200
    assert len(replies(fake, session, seconds=seconds)) == 1
    time.sleep(1.5)  # a second reply would come within this
    assert len(fake.session_messages(session)) == 1


def test_a_message_refused_while_the_database_is_down_is_answered_once_when_dingtalk_retries(
    tmp_path: Path, fake_llm: FakeLLM, fake_dingtalk: FakeDingTalk
) -> None:
    with (
        proxied_backend() as (backend, db_proxy, _),
        started(tmp_path, backend, **robot_env(fake_llm, fake_dingtalk)) as server,
    ):
        payload, session = payload_for(fake_dingtalk, "数据库断开时的问题")
        db_proxy.cut()
        wait_for_status(server.base, 503)
        refused = post(server, payload)
        assert refused.status_code == 503 and refused.json()["code"] == 50002
        assert fake_dingtalk.session_messages(session) == []
        db_proxy.restore()
        wait_for_status(server.base, 200)
        answered_once(server, fake_dingtalk, payload, session)


def test_while_redis_is_down_messages_are_answered_from_the_inbox_and_it_recovers(
    tmp_path: Path, fake_llm: FakeLLM, fake_dingtalk: FakeDingTalk
) -> None:
    with (
        proxied_backend() as (backend, _, redis_proxy),
        started(tmp_path, backend, **robot_env(fake_llm, fake_dingtalk)) as server,
    ):
        redis_proxy.cut()
        assert wait_for_status(server.base, 200).json()["services"]["redis"] == "unhealthy"
        # The document's nonce variant needs Redis to refuse replays: refused (503, 50003) until it is back.
        signed, _ = payload_for(fake_dingtalk, "nonce while Redis is away")
        refused = post(server, signed, nonce_headers())
        assert refused.status_code == 503 and refused.json()["code"] == 50003
        during, session = payload_for(fake_dingtalk, "缓存断开时的问题")
        # From the inbox, once the sweeper finds it waiting (requeue_seconds, 10 s by default).
        answered_once(server, fake_dingtalk, during, session, seconds=30)
        redis_proxy.restore()
        assert wait_for_status(server.base, 200).json()["status"] == "healthy"
        after, session = payload_for(fake_dingtalk, "缓存恢复后的问题")
        answered_once(server, fake_dingtalk, after, session)
        retried = post(server, signed, nonce_headers())  # the sender's retry, signed anew
        assert retried.status_code == 200, retried.text
        with server.client() as admin:  # rate limits are enforced again, through Redis
            assert admin.put("/config", json={"rateLimitPerMinute": 3}).status_code == 200
            statuses = [admin.get("/models").status_code for _ in range(5)]
        assert 429 in statuses


def test_health_reports_the_outage_and_the_recovery_of_each(tmp_path: Path) -> None:
    with proxied_backend() as (backend, db_proxy, redis_proxy), started(tmp_path, backend) as server:
        redis_proxy.cut()
        db_proxy.cut()
        down = wait_for_status(server.base, 503).json()
        assert down["services"]["database"] == "unhealthy"
        redis_proxy.restore()
        db_proxy.restore()
        assert wait_for_status(server.base, 200).json()["status"] == "healthy"
        assert httpx.get(f"{server.base}/health/live").status_code == 200
