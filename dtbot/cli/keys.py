"""`dtbot keys`: create, list and revoke API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from dtbot.cli.common import ConfigOption, JsonOption, config_from, emit_json, friendly, out, with_runtime
from dtbot.services.keys import KeyInfo

app = typer.Typer(help="Manage API keys (only a hash is stored; a secret is shown once).", no_args_is_help=True)


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


@app.command("create")
@friendly
def create(
    name: Annotated[str, typer.Argument(help="A name to recognise the key by, e.g. the team or app using it.")],
    role: Annotated[str, typer.Option("--role", "-r", help="admin (all routes) or user (chat and own data).")] = "user",
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Create a key and print its secret once."""
    created = with_runtime(config_from(config), lambda rt: rt.keys.create(name, role))
    if json:
        emit_json(created)
        return
    out.print(f"Created {created.role} key [bold]{created.id}[/bold] ({created.name}).")
    out.print("Secret (shown only now, store it safely):")
    out.print(created.key, highlight=False, soft_wrap=True)


@app.command("list")
@friendly
def list_keys(
    all_keys: Annotated[bool, typer.Option("--all", "-a", help="Include revoked keys.")] = False,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """List keys (never their secrets)."""
    keys: list[KeyInfo] = with_runtime(config_from(config), lambda rt: rt.keys.list(include_revoked=all_keys))
    if json:
        emit_json(keys)
        return
    table = Table("id", "name", "role", "prefix", "created", "last used", "revoked")
    table.columns[0].no_wrap = True
    for key in keys:
        table.add_row(
            key.id,
            key.name,
            key.role,
            key.prefix,
            _when(key.created_at),
            _when(key.last_used_at),
            _when(key.revoked_at),
        )
    out.print(table if keys else "No keys.")


@app.command("revoke")
@friendly
def revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (key_…), as `dtbot keys list` shows it.")],
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Revoke a key; running servers stop accepting it."""
    info = with_runtime(config_from(config), lambda rt: rt.keys.revoke(key_id))
    if json:
        emit_json(info)
        return
    out.print(f"Revoked {info.id} ({info.name}).")
