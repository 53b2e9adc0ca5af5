"""The Node.js SDK (`sdks/node`, npm `dingtalk-bot-sdk`): its `node --test` suite against a running server."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.servers import Server

SDK = Path(__file__).resolve().parent.parent / "sdks" / "node"
REQUIRED = os.environ.get("DTBOT_REQUIRE_SERVICES") == "1"


def test_node_sdk_against_the_gateway(gateway: Server) -> None:
    if gateway.backend.name != "sqlite":
        pytest.skip("the Node SDK is exercised once, on SQLite")
    node = shutil.which("node")
    if node is None:
        if REQUIRED:
            pytest.fail("node is not on PATH and DTBOT_REQUIRE_SERVICES=1")
        pytest.skip("node is not on PATH")
    assert gateway.admin_key, "the server printed no admin key"
    env = os.environ | {"DTBOT_BASE_URL": gateway.base, "DTBOT_API_KEY": gateway.admin_key, "NO_COLOR": "1"}
    done = subprocess.run(
        [node, "--test", "--test-reporter=tap", "test/"],
        cwd=SDK,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"node --test failed ({done.returncode}):\n{output}"
    assert "# fail 0" in output and "# skipped 0" in output, output
