"""`dtbot conversations`: list, show, delete and export stored conversations (all of them: no key applies)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown
from rich.table import Table

from dtbot.cli.common import ConfigOption, JsonOption, config_from, emit_json, fail, friendly, out, with_runtime
from dtbot.services.export import FORMATS, all_messages, render

app = typer.Typer(help="Stored conversations and their messages.", no_args_is_help=True)
IdArgument = Annotated[str, typer.Argument(help="The conversation's id (conv_…).", metavar="ID")]


@app.command("list")
@friendly
def list_conversations(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this userId's.")] = None,
    search: Annotated[str | None, typer.Option("--search", "-s", help="Match titles and message text.")] = None,
    page: Annotated[int, typer.Option(help="Page number, from 1.")] = 1,
    limit: Annotated[int, typer.Option(help="Conversations per page (at most 100).")] = 20,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """List conversations, newest first."""
    found = with_runtime(
        config_from(config),
        lambda rt: rt.conversations.list(None, user_id=user, search=search, page=page, limit=limit),
    )
    if json:
        emit_json(found)
        return
    table = Table("id", "user", "title", "model", "messages", "tokens", "updated")
    table.columns[0].no_wrap = True
    for c in found.conversations:
        table.add_row(
            c.conversation_id,
            c.user_id,
            c.title,
            c.model,
            str(c.message_count),
            f"{c.token_usage:,}",
            c.updated_at.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table if found.conversations else "No conversations.")
    paging = found.pagination
    out.print(f"page {paging.page} of {max(paging.total_pages, 1)}, {paging.total} in all", highlight=False)


@app.command("show")
@friendly
def show(conversation_id: IdArgument, config: ConfigOption = None, json: JsonOption = False) -> None:
    """Show a conversation and all its messages."""
    export = with_runtime(config_from(config), lambda rt: all_messages(rt.conversations, conversation_id, None))
    if json:
        emit_json(export)
        return
    out.print(Markdown(render(export, "markdown")))


@app.command("delete")
@friendly
def delete(
    conversation_id: IdArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Delete a conversation and its messages (asks first unless --yes)."""
    cfg = config_from(config)
    if not yes and not typer.confirm(f"Delete {conversation_id} and all its messages?"):
        fail("not deleted", 1)
    with_runtime(cfg, lambda rt: rt.conversations.delete(conversation_id, None))
    if json:
        emit_json({"deleted": conversation_id})
    else:
        out.print(f"Deleted {conversation_id}.")


@app.command("export")
@friendly
def export(
    conversation_id: IdArgument,
    form: Annotated[str, typer.Option("--format", "-f", help="json or markdown.")] = "markdown",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (else stdout).")] = None,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Export a conversation as JSON or Markdown."""
    if json:
        form = "json"
    if form not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {form!r}", 2)
    found = with_runtime(config_from(config), lambda rt: all_messages(rt.conversations, conversation_id, None))
    text = render(found, form)  # type: ignore[arg-type]
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror}")
    out.print(f"Wrote {output}.")
