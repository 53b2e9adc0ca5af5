"""SIGTERM through a running server: streams in flight finish, nothing new is accepted, usage is written."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import provider_env, provision
from tests.fakes.llm import FakeLLM
from tests.support.servers import Server
from tests.test_gateway import usage_rows

QUESTION = "drain me [[fake:chunks=12,chunk_delay=0.25]]"  # about 3 s of answer


@pytest.mark.parametrize("kind", ["sqlite", "mysql"])
def test_sigterm_lets_a_stream_finish_then_exits_cleanly_with_its_usage_written(
    tmp_path: Path, fake_llm: FakeLLM, kind: str
) -> None:
    with provision(kind, tmp_path) as backend:
        server = Server(tmp_path, backend, provider_env(fake_llm)).start()
        try:
            body = {"model": "gpt-4", "stream": True, "messages": [{"role": "user", "content": QUESTION}]}
            with server.client() as client, client.stream("POST", "/chat/completions", json=body) as response:
                request_id = response.headers["x-request-id"]
                lines = response.iter_lines()
                first = next(line for line in lines if '"content"' in line)
                assert server.process is not None
                server.process.send_signal(signal.SIGTERM)
                time.sleep(0.3)
                with pytest.raises(httpx.TransportError):  # no new connections while draining
                    httpx.get(f"{server.base}/health/live", timeout=2)
                rest = [line for line in lines if line]
            assert first and rest[-1] == "data: [DONE]"
            assert not any('"error"' in line for line in rest)
            # uvicorn re-raises the signal once it has shut down, so a clean stop reads "killed by SIGTERM".
            assert server.process.wait(timeout=40) in (0, -signal.SIGTERM)
            assert "Traceback" not in server.output()
        finally:
            server.stop()
        rows = usage_rows(server, request_id, seconds=1)  # written before the process ended
        assert [(row.status, row.stream) for row in rows] == [("ok", True)]
        assert rows[0].completion_tokens > 0
