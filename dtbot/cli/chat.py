"""`dtbot chat`: talk to any configured model from the terminal, through the same service as the API.

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
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output
from rich.console import Console
from rich.live import Live
from rich.markdown import Markdown
from rich.table import Table

from dtbot.cli.common import ConfigOption, JsonOption, config_from, emit_json, friendly, out
from dtbot.errors import DtbotError
from dtbot.services.chat import Caller
from dtbot.services.chat_types import ChatCompletionRequest, ChatMessage
from dtbot.services.runtime import Runtime, open_runtime

CALLER = Caller(source="cli")
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


@dataclass
class Session:
    """What the conversation so far is: model, system prompt, messages."""

    model: str
    system: str = ""
    messages: list[dict[str, str]] = field(default_factory=list)

    def request(self, *, stream: bool) -> ChatCompletionRequest:
        """The request for the next answer, with the whole session as context."""
        system = [{"role": "system", "content": self.system}] if self.system else []
        messages = [msgspec.convert(m, ChatMessage) for m in [*system, *self.messages]]
        return ChatCompletionRequest(model=self.model, messages=messages, stream=stream)


async def answer_once(runtime: Runtime, session: Session, write: Callable[[str], Any]) -> str:
    """Stream one answer to `write` piece by piece and return it whole."""
    parts: list[str] = []
    chunks = await runtime.chat.stream(session.request(stream=True), CALLER)
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
        session: Session,
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
        self.console.print(f"dtbot chat · model [bold]{self.session.model}[/bold] · /help for commands, Ctrl-D to quit")
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
        """Send `text` and render the answer live; Ctrl-C stops it and keeps what arrived."""
        self.session.messages.append({"role": "user", "content": text})
        shown: list[str] = []
        loop = asyncio.get_running_loop()
        with Live(Markdown(""), console=self.console, refresh_per_second=12) as live:

            def show(piece: str) -> None:
                shown.append(piece)
                live.update(Markdown("".join(shown)))

            task = asyncio.ensure_future(answer_once(self.runtime, self.session, show))
            with contextlib.suppress(NotImplementedError, RuntimeError):  # no signals off the main thread
                loop.add_signal_handler(signal.SIGINT, task.cancel)
            try:
                answer = await task
            except asyncio.CancelledError:
                answer = "".join(shown)
                self.console.print("[dim](stopped)[/dim]")
            except DtbotError as error:
                self.session.messages.pop()
                self.console.print(f"[red]error:[/red] {error.message}", highlight=False)
                return
            finally:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signal.SIGINT)
        self.session.messages.append({"role": "assistant", "content": answer})

    async def command(self, line: str) -> bool:
        """Run a slash command; False means leave."""
        name, _, argument = line.partition(" ")
        argument = argument.strip()
        if name in ("/exit", "/quit"):
            return False
        if name == "/help":
            self.console.print(HELP, highlight=False)
        elif name == "/model":
            self.switch_model(argument)
        elif name == "/models":
            self.console.print(self.models_table())
        elif name == "/system":
            self.session.system = argument
            self.console.print("System prompt " + ("set." if argument else "cleared."))
        elif name == "/reset":
            self.session.messages.clear()
            self.console.print("Session reset.")
        elif name == "/history":
            for message in self.session.messages:
                self.console.print(f"[bold]{message['role']}[/bold]: {message['content']}", highlight=False)
        else:
            self.console.print(f"[red]unknown command {name}[/red]; /help lists them", highlight=False)
        return True

    def switch_model(self, model: str) -> None:
        if not model:
            self.console.print(f"model: {self.session.model}")
            return
        try:
            self.runtime.models.resolve(model)
        except DtbotError as error:
            self.console.print(f"[red]error:[/red] {error.message}", highlight=False)
            return
        self.session.model = model
        self.console.print(f"model: {model}")

    def models_table(self) -> Table:
        table = Table("model", "provider", "available", "context", "price in/out per 1K")
        for model in self.runtime.models.list():
            price = f"{model.input_price:g}/{model.output_price:g} {model.currency}"
            table.add_row(model.id, model.provider, "yes" if model.available else "no", f"{model.max_tokens:,}", price)
        return table


@friendly
def chat(
    text: Annotated[str | None, typer.Argument(help="Ask this, print just the answer.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model id [default: defaultModel].")] = None,
    system: Annotated[str, typer.Option("--system", "-s", help="System prompt.")] = "",
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Chat with any configured model: one question, piped input, or an interactive session."""
    if text is None and not sys.stdin.isatty():
        text = sys.stdin.read()
    asyncio.run(_chat(config_from(config), text, model, system, json))


async def _chat(config: Any, text: str | None, model: str | None, system: str, as_json: bool) -> None:
    async with open_runtime(config) as runtime:
        session = Session(model=model or (await runtime.settings.load()).default_model, system=system)
        if text is None:
            await Repl(runtime, session, out).run()
            return
        session.messages.append({"role": "user", "content": text.strip()})
        if as_json:
            emit_json(await runtime.chat.complete(session.request(stream=False), CALLER))
            return
        answer = await answer_once(runtime, session, lambda piece: (sys.stdout.write(piece), sys.stdout.flush()))
        if not answer.endswith("\n"):
            sys.stdout.write("\n")
