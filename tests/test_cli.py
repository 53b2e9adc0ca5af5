"""The admin CLI, in-process with Typer's runner and as a subprocess, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from dtbot.cli import app
from dtbot.store import migrate
from tests.support.backends import Backend
from tests.support.servers import BASE_ENV, Server
from tests.test_shared_state import cli

runner = CliRunner()


def invoke(backend: Backend, *args: str, **env: str):
    return runner.invoke(app, list(args), env=BASE_ENV | backend.env() | env)


def one_line_error(result) -> str:
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error:")
    return lines[0]


def test_help_reads_well() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "keys", "config", "db", "stats", "health"):
        assert command in result.output
    for group in (["keys", "create", "--help"], ["config", "set", "--help"], ["serve", "--help"], ["stats", "--help"]):
        sub = runner.invoke(app, group)
        assert sub.exit_code == 0 and "--config" in sub.output and "--json" in sub.output


def test_db_upgrade_and_current(backend: Backend) -> None:
    result = invoke(backend, "db", "upgrade", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"revision": migrate.head_revision()}
    current = invoke(backend, "db", "current", "--json")
    assert json.loads(current.output)["revision"] == json.loads(current.output)["head"]


def test_serve_no_migrate_refuses_an_old_schema_and_serves_a_current_one(backend: Backend, tmp_path: Path) -> None:
    refused = invoke(backend, "serve", "--no-migrate")
    assert refused.exit_code == 1
    assert "run dtbot db upgrade" in one_line_error(refused)
    assert invoke(backend, "db", "upgrade").exit_code == 0
    server = Server(tmp_path, backend, args=["--no-migrate"]).start()
    try:
        assert httpx.get(f"{server.base}/health/live").json() == {"status": "alive"}
    finally:
        server.stop()


def test_keys_create_list_revoke(backend: Backend) -> None:
    invoke(backend, "db", "upgrade")
    created = invoke(backend, "keys", "create", "ci-bot", "--role", "admin", "--json")
    assert created.exit_code == 0, created.output
    key = json.loads(created.output)
    assert {"id", "name", "role", "key"} <= set(key) and key["role"] == "admin" and key["key"].startswith("dtb_")
    listed = json.loads(invoke(backend, "keys", "list", "--json").output)
    assert [k["id"] for k in listed] == [key["id"]] and "key" not in listed[0]
    table = invoke(backend, "keys", "list")
    assert key["id"] in table.output and key["key"] not in table.output
    revoked = invoke(backend, "keys", "revoke", key["id"], "--json")
    assert json.loads(revoked.output)["revokedAt"]
    assert json.loads(invoke(backend, "keys", "list", "--json").output) == []
    assert len(json.loads(invoke(backend, "keys", "list", "--all", "--json").output)) == 1


def test_config_show_get_set(backend: Backend) -> None:
    invoke(backend, "db", "upgrade")
    assert invoke(backend, "config", "get", "defaultModel").output.strip() == "gpt-3.5-turbo"
    changed = invoke(backend, "config", "set", "enableStreamResponse", "false", "--json")
    assert changed.exit_code == 0 and json.loads(changed.output)["enableStreamResponse"] is False
    invoke(backend, "config", "set", "defaultModel", "glm-4")
    shown = json.loads(invoke(backend, "config", "show", "--json").output)
    assert shown["defaultModel"] == "glm-4" and shown["enableStreamResponse"] is False


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["config", "set", "rateLimitPerMinute", "0"], "rateLimitPerMinute"),
        (["config", "set", "colour", "blue"], "colour"),
        (["config", "set", "defaultModel", "gpt-99"], "40004"),
        (["config", "get", "nothing"], "unknown setting"),
        (["keys", "create", "x", "--role", "root"], "role"),
        (["keys", "revoke", "key_nope"], "key_nope"),
    ],
)
def test_user_mistakes_are_one_line_and_exit_2(backend: Backend, args: list[str], expected: str) -> None:
    invoke(backend, "db", "upgrade")
    result = invoke(backend, *args)
    assert result.exit_code == 2
    assert expected in one_line_error(result)


def test_bad_configuration_is_one_line_and_exit_2(tmp_path: Path) -> None:
    backend = Backend("sqlite", f"sqlite:///{tmp_path / 'x.db'}")
    result = invoke(backend, "stats", PORT="eighty")
    assert result.exit_code == 2
    assert "PORT (server.port)" in one_line_error(result)


def test_unreachable_database_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = invoke(Backend("mysql", "mysql://root:hunter2@127.0.0.1:1/none"), "stats")
    assert result.exit_code == 1
    line = one_line_error(result)
    assert "50002" in line and "hunter2" not in line


def test_health_and_stats_as_json(backend: Backend) -> None:
    invoke(backend, "db", "upgrade")
    health = invoke(backend, "health", "--json")
    assert health.exit_code == 0
    assert json.loads(health.output)["services"]["database"] == "healthy"
    stats = invoke(backend, "stats", "--json")
    assert json.loads(stats.output)["totalMessages"] == 0
    assert "totalUsers" in invoke(backend, "stats").output


def test_keys_create_json_as_a_subprocess(backend: Backend) -> None:
    assert cli(backend, "db", "upgrade").returncode == 0
    result = cli(backend, "keys", "create", "deploy", "--json")
    assert result.returncode == 0, result.stderr
    parsed = json.loads(result.stdout)
    assert parsed["name"] == "deploy" and parsed["role"] == "user" and len(parsed["key"]) == 47
