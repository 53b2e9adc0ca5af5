"""The `dtbot` command: the server, the chat REPL, the dashboard and scripted administration."""

from __future__ import annotations

import typer

from dtbot import __version__
from dtbot.cli import chat, conversations, dingtalk, keys, settings, system
from dtbot.cli.common import ConfigOption, config_from, friendly

app = typer.Typer(
    name="dtbot",
    help="dtbot: a DingTalk robot and one OpenAI-compatible API in front of several LLM providers.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
app.command("serve")(system.serve)
app.command("chat")(chat.chat)
app.command("stats")(system.stats)
app.command("health")(system.health)
app.add_typer(system.db_app, name="db")
app.add_typer(keys.app, name="keys")
app.add_typer(settings.app, name="config")
app.add_typer(conversations.app, name="conversations")
app.add_typer(dingtalk.app, name="dingtalk")


@app.command("tui")
@friendly
def tui(config: ConfigOption = None) -> None:
    """Open the live dashboard: stats, health, conversations, chat, config, keys and requests."""
    from dtbot.tui.app import run  # Textual is imported only when the dashboard opens

    run(config_from(config))


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dtbot {__version__}")
        raise typer.Exit


@app.callback()
def main_options(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """Run `dtbot COMMAND --help` for a command's options."""


def main() -> None:
    """Console-script entry point."""
    app()
