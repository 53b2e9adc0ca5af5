"""The chat session behind `dtbot chat`: one answer at a time, or the interactive REPL.

With a text argument or piped input it prints just the answer (for scripts);
otherwise it is a REPL: the answer streams in, rendered as Markdown, with
line editing, history across runs and slash commands. Ctrl-C stops the
current answer and keeps the session; Ctrl-D or /exit leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output
from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown
from rich.table import Table

from dtbot.errors import DtbotError
from dtbot.services.chat_session import ChatSession
from dtbot.services.export import all_messages
from dtbot.services.runtime import Runtime

SOURCE = "cli"
HELP = """\
/model [ID]     show the model, or switch to ID
/models         list the models and whether each is available
/system TEXT    set the system prompt (empty to clear)
/reset          forget this session's messages
/history        show this session's messages
/help           this help
/exit           leave (or Ctrl-D); Ctrl-C stops an answer"""


def history_file() -> Path:
    """Where the REPL keeps its input history: $XDG_STATE_HOME/dtbot, else ~/.local/state/dtbot."""
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    path = base / "dtbot" / "chat_history"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


async def answer_once(runtime: Runtime, session: ChatSession, text: str, write: Callable[[str], Any]) -> str:
    """Stream the answer to `text` into `write` piece by piece and return it whole."""
    parts: list[str] = []
    chunks = await session.stream(runtime, text)
    async with contextlib.aclosing(chunks):
        async for chunk in chunks:
            for choice in chunk.choices:
                if choice.delta.content:
                    parts.append(choice.delta.content)
                    write(choice.delta.content)
    return "".join(parts)


class Repl:
    """The interactive loop; input and output can be replaced, which is how the tests drive it."""

    def __init__(
        self,
        runtime: Runtime,
        session: ChatSession,
        console: Console,
        *,
        input: Input | None = None,
        output: Output | None = None,
    ) -> None:
        self.runtime = runtime
        self.session = session
        self.console = console
        self.prompt = PromptSession(history=FileHistory(str(history_file())), input=input, output=output)

    async def run(self) -> None:
        """Read, answer, repeat until /exit or end of input."""
        where = f" · conversation {self.session.conversation_id}" if self.session.conversation_id else ""
        self.console.print(
            f"dtbot chat · model [bold]{self.session.model}[/bold]{where} · /help for commands, Ctrl-D to quit",
            highlight=False,
        )
        while True:
            try:
                line = (await self.prompt.prompt_async("› ")).strip()
            except KeyboardInterrupt:
                continue
            except EOFError:
                return
            if not line:
                continue
            if line.startswith("/"):
                if not await self.command(line):
                    return
                continue
            await self.ask(line)

    async def ask(self, text: str) -> None:
        """Send `text` and render the answer live; Ctrl-C stops it (what arrived is kept, marked cut off)."""
        try:
            await self.session.save(self.runtime, text)
        except DtbotError as error:
            self.console.print(f"[red]error:[/red] {error.message}", highlight=False)
            return
        shown: list[str] = []
        loop = asyncio.get_running_loop()
        with Live(Markdown(""), console=self.console, refresh_per_second=12) as live:

            def show(piece: str) -> None:
                shown.append(piece)
                live.update(Markdown("".join(shown)))

            task = asyncio.ensure_future(answer_once(self.runtime, self.session, text, show))
            with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals off the main thread
                loop.add_signal_handler(signal.SIGINT, task.cancel)
            try:
                await task
            except asyncio.CancelledError:
                self.console.print("[dim](stopped)[/dim]")
            except DtbotError as error:
                self.console.print(f"[red]error:[/red] {error.message}", highlight=False)
            finally:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signal.SIGINT)

    async def command(self, line: str) -> bool:
        """Run a slash command; False means leave."""
        name, _, argument = line.partition(" ")
        argument = argument.strip()
        if name in ("/exit", "/quit"):
            return False
        if name == "/help":
            self.console.print(HELP, highlight=False)
        elif name == "/model":
            await self.switch_model(argument)
        elif name == "/models":
            self.console.print(self.models_table())
        elif name == "/system":
            await self.set_system(argument)
        elif name == "/reset":
            self.session.restart()
            self.console.print("New conversation: the next message starts it.")
        elif name == "/history":
            await self.show_history()
        else:
            self.console.print(f"[red]unknown command {name}[/red]; /help lists them", highlight=False)
        return True

    async def switch_model(self, model: str) -> None:
        if not model:
            self.console.print(f"model: {self.session.model}")
            return
        try:
            await self.session.use_model(self.runtime, model)
        except DtbotError as error:
            self.console.print(f"[red]error:[/red] {error.message}", highlight=False)
            return
        self.console.print(f"model: {model}")

    async def set_system(self, text: str) -> None:
        await self.session.use_system(self.runtime, text)
        self.console.print("System prompt " + ("set." if text else "cleared."))

    async def show_history(self) -> None:
        if not self.session.conversation_id:
            self.console.print("No messages yet.")
            return
        export = await all_messages(self.runtime.conversations, self.session.conversation_id, None)
        for message in export.messages:
            cut = " [dim](cut off)[/dim]" if message.cut_off else ""
            self.console.print(f"[bold]{message.role}[/bold]{cut}: {message.content}", highlight=False)

    def models_table(self) -> Table:
        table = Table("model", "provider", "available", "context", "price in/out per 1K")
        for model in self.runtime.models.list():
            price = f"{model.input_price:g}/{model.output_price:g} {model.currency}"
            table.add_row(model.id, model.provider, "yes" if model.available else "no", f"{model.max_tokens:,}", price)
        return table
