"""`GET /metrics` and the logs: what a full run leaves there, and that no secret is ever in them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from tests.conftest import GATEWAY_CONFIG, provider_env, provision
from tests.fakes.llm import FakeLLM
from tests.support.servers import Server


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in text.splitlines():
        match = re.match(rf"^{name}\{{(.*)\}} (\S+)$", line) if labels else re.match(rf"^{name} (\S+)$", line)
        if match and (not labels or ",".join(sorted(match.group(1).split(","))) == wanted):
            return float(match.groups()[-1])
    return 0.0


def test_metrics_and_secret_free_json_logs_over_a_full_run(tmp_path: Path, fake_llm: FakeLLM) -> None:
    (tmp_path / "config.toml").write_text(GATEWAY_CONFIG)
    secrets = provider_env(fake_llm) | {
        "DINGTALK_APP_SECRET": "SEC-dingtalk-secret-never-logged",
        "JWT_SECRET": "jwt-secret-never-logged",
    }
    env = secrets | {"LOG_FORMAT": "json", "LOG_LEVEL": "debug", "API_RATE_LIMIT": "50"}
    with provision("sqlite", tmp_path) as backend:
        server = Server(tmp_path, backend, env).start()
        try:
            with server.client() as client:
                body = {"model": "gpt-4", "messages": [{"role": "user", "content": "metrics"}]}
                assert client.post("/chat/completions", json=body).status_code == 200
                failing = {"model": "gpt-4", "messages": [{"role": "user", "content": "[[fake:status=401,echo_key]]"}]}
                assert client.post("/chat/completions", json=failing).status_code == 503
                client.get("/conversations/conv_missing")
                user_key = client.post("/keys", json={"name": "u"}).json()["data"]["key"]
            with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {user_key}"}) as user:
                statuses = [user.get("/models").status_code for _ in range(55)]
            assert 429 in statuses
            httpx.post(f"{server.base}/dingtalk/webhook", json={}, headers={"timestamp": "1", "sign": "x"})
            text = httpx.get(server.base.removesuffix("/api") + "/metrics").text
        finally:
            server.stop()
        logs = server.output()
    assert metric(text, "dtbot_http_requests_total", route="/api/chat/completions", method="POST", status="200") == 1
    assert metric(text, "dtbot_http_requests_total", route="/api/chat/completions", method="POST", status="503") == 1
    assert metric(text, "dtbot_llm_calls_total", provider="openai", model="gpt-4", status="ok") == 1
    assert metric(text, "dtbot_llm_calls_total", provider="openai", model="gpt-4", status="error") == 1
    assert metric(text, "dtbot_llm_tokens_total", provider="openai", model="gpt-4", kind="completion") > 0
    assert metric(text, "dtbot_rate_limit_rejections_total") >= 1
    assert metric(text, "dtbot_http_requests_total", route="/api/models", method="GET", status="429") >= 1
    assert metric(text, "dtbot_http_requests_total", route="/api/models", method="GET", status="500") == 0
    assert "dtbot_http_request_duration_seconds_bucket" in text and "process_resident_memory_bytes" in text
    records = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert records, "JSON logs were asked for"
    assert all({"time", "level", "logger", "message", "request_id"} <= set(r) for r in records)
    for name, secret in secrets.items():
        if name.endswith(("_KEY", "_SECRET")):
            assert secret not in logs, f"{name} leaked into the logs"
            assert secret not in text
    assert user_key not in logs
