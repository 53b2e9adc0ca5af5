"""`dtbot config`: show and change the runtime settings (the same rules as `PUT /api/config`)."""

from __future__ import annotations

from typing import Annotated

import msgspec
import typer
from rich.table import Table

from dtbot.cli.common import ConfigOption, JsonOption, config_from, emit_json, fail, friendly, out, with_runtime
from dtbot.services.settings import KEYS, RuntimeSettings, parse_text

app = typer.Typer(
    help="Runtime settings, stored in the database; running servers apply changes within 2 seconds.",
    no_args_is_help=True,
)
KEY_HELP = f"One of: {', '.join(KEYS)}."


def _as_dict(settings: RuntimeSettings) -> dict[str, object]:
    return msgspec.to_builtins(settings)


@app.command("show")
@friendly
def show(config: ConfigOption = None, json: JsonOption = False) -> None:
    """Show every setting in force."""
    settings = with_runtime(config_from(config), lambda rt: rt.settings.load())
    if json:
        emit_json(settings)
        return
    table = Table("setting", "value")
    for key, value in _as_dict(settings).items():
        table.add_row(key, msgspec.json.encode(value).decode())
    out.print(table)


@app.command("get")
@friendly
def get(
    key: Annotated[str, typer.Argument(help=KEY_HELP, metavar="KEY")],
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Print one setting."""
    if key not in KEYS:
        fail(f"unknown setting {key!r}; known settings are {', '.join(KEYS)}", 2)
    value = _as_dict(with_runtime(config_from(config), lambda rt: rt.settings.load()))[key]
    if json:
        emit_json({key: value})
        return
    out.print(value if isinstance(value, str) else msgspec.json.encode(value).decode(), highlight=False)


@app.command("set")
@friendly
def set_value(
    key: Annotated[str, typer.Argument(help=KEY_HELP, metavar="KEY")],
    value: Annotated[str, typer.Argument(help="The new value: a number, true/false, or text.", metavar="VALUE")],
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Change one setting, validated as the API does."""
    settings = with_runtime(config_from(config), lambda rt: rt.settings.update({key: parse_text(value)}))
    if json:
        emit_json(settings)
        return
    out.print(f"{key} = {msgspec.json.encode(_as_dict(settings)[key]).decode()}", highlight=False)
