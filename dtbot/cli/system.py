"""`dtbot serve`, `dtbot db`, `dtbot stats` and `dtbot health`."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import msgspec
import typer
from rich.table import Table

from dtbot.cli.common import (
    FAILURE,
    ConfigOption,
    JsonOption,
    config_from,
    emit_json,
    fail,
    friendly,
    out,
    with_runtime,
)
from dtbot.config import Config
from dtbot.config.load import CONFIG_ENV
from dtbot.store import migrate

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@friendly
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind [default: 127.0.0.1, or $HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [default: 3000, or $PORT].")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes [default: 1].")] = None,
    no_migrate: Annotated[
        bool,
        typer.Option(
            "--no-migrate",
            help="Do not migrate; refuse to start unless the schema is current (replicas behind a migration job).",
        ),
    ] = False,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Migrate the database and run the API server (everything under /api).

    On a database without API keys the server creates an admin key and prints it once.
    """
    cfg = config_from(config, **{"server.host": host, "server.port": port, "server.workers": workers})
    if no_migrate:
        _require_current_schema(cfg.database.url)
    else:
        migrate.upgrade(cfg.database.url)
    if config is not None:
        os.environ[CONFIG_ENV] = str(config.resolve())  # the server process loads the same file
    for flag, value in (("HOST", host), ("PORT", port)):
        if value is not None:
            os.environ[flag] = str(value)
    address = f"http://{cfg.server.host}:{cfg.server.port}/api"
    if json:
        emit_json({"url": address, "docs": f"{address}/schema"})
    else:
        out.print(f"dtbot serving {address} (docs: {address}/schema)", highlight=False)
    sys.stdout.flush()
    # A fresh process for the server: it holds only what serving needs, not the CLI, Alembic and this
    # start-up's work (about 30 MB less resident memory). uvicorn with uvloop and httptools.
    os.execv(sys.executable, [sys.executable, "-m", "uvicorn", *uvicorn_arguments(cfg)])


def _require_current_schema(url: str) -> None:
    current, head = migrate.current_revision(url), migrate.head_revision()
    if current != head:
        fail(f"the database schema is at {current or 'none'}, this version needs {head}: run dtbot db upgrade", FAILURE)


def uvicorn_arguments(cfg: Config) -> list[str]:
    """uvicorn's command line for this configuration."""
    return [
        "dtbot.server.app:create_app",
        "--factory",
        "--host",
        cfg.server.host,
        "--port",
        str(cfg.server.port),
        "--workers",
        str(cfg.server.workers),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
        "--timeout-graceful-shutdown",
        "30",
    ]


@db_app.command("upgrade")
@friendly
def db_upgrade(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Apply the schema migrations (creating the MySQL database if it is missing)."""
    cfg = config_from(config)
    migrate.upgrade(cfg.database.url, revision)
    current = migrate.current_revision(cfg.database.url)
    if json:
        emit_json({"revision": current})
    else:
        out.print(f"Database is at revision {current}.")


@db_app.command("current")
@friendly
def db_current(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Show the database's schema revision and the newest one this version knows."""
    cfg = config_from(config)
    current, head = migrate.current_revision(cfg.database.url), migrate.head_revision()
    if json:
        emit_json({"revision": current, "head": head})
    else:
        out.print(
            f"revision {current or 'none'} (newest: {head})" + ("" if current == head else " - run: dtbot db upgrade")
        )


@friendly
def stats(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Usage totals, today's figures and model shares (as GET /api/stats)."""
    report = with_runtime(config_from(config), lambda rt: rt.stats.summary())
    if json:
        emit_json(report)
        return
    table = Table("figure", "value")
    for key, value in msgspec.to_builtins(report).items():
        if key != "modelUsage":
            table.add_row(key, f"{value:,}")
    out.print(table)
    shares = Table("model", "share of calls")
    for model, share in report.model_usage.items():
        shares.add_row(model, f"{share}%")
    out.print(shares if report.model_usage else "No model calls yet.")


@friendly
def health(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Check the database, Redis and each provider from here; exit 1 when unhealthy."""
    from dtbot.services.health import HEALTHY, UNHEALTHY

    report = with_runtime(config_from(config), lambda rt: rt.health.check())
    if json:
        emit_json(report)
    else:
        colour = {HEALTHY: "green", UNHEALTHY: "red"}.get(report.status, "yellow")
        out.print(f"status: [{colour}]{report.status}[/{colour}]  version {report.version}")
        table = Table("service", "state")
        table.add_row("database", report.services.database)
        table.add_row("redis", report.services.redis)
        for name, state in report.services.llm_providers.items():
            table.add_row(f"provider {name}", state)
        out.print(table)
    if report.status == UNHEALTHY:
        raise typer.Exit(1)
