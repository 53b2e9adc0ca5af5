"""Schemathesis against `/api/schema/openapi.json` with an admin key: no 5xx, every answer as documented.

A bounded run by default (DTBOT_FUZZ_EXAMPLES examples per operation, seed
DTBOT_FUZZ_SEED); raise them for a deeper search. The providers answer from the
fake upstream, so a 5xx can only come from dtbot. `positive_data_acceptance` is
left out: some limits are runtime settings (maxTokensPerRequest) no schema
states, and bodies with unknown fields are refused on purpose.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import provider_env, started
from tests.fakes.llm import FakeLLM
from tests.support.backends import sqlite_backend
from tests.support.servers import Server

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
]
EXAMPLES = os.environ.get("DTBOT_FUZZ_EXAMPLES", "25")
SEED = os.environ.get("DTBOT_FUZZ_SEED", "20261124")


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeLLM) -> Iterator[Server]:
    """A server whose rate limit stays out of the way of thousands of requests."""
    directory: Path = tmp_path_factory.mktemp("fuzz")
    with started(directory, sqlite_backend(directory), API_RATE_LIMIT="1000000", **provider_env(fake_llm)) as server:
        yield server


def test_every_operation_answers_as_its_schema_says(target: Server, tmp_path: Path) -> None:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{target.base}/schema/openapi.json",
        "--header",
        f"Authorization: Bearer {target.admin_key}",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        EXAMPLES,
        "--seed",
        SEED,
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path, check=False)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-6000:]
    assert "Selected: 20/20" in report or "Tested:" in report
    assert "Traceback" not in target.output()
