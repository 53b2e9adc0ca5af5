"""`dtbot chat`: talk to any configured model from the terminal, through the same service as the API.

With a text argument or piped input it prints just the answer (for scripts);
otherwise it is the REPL of `dtbot.cli.repl`. Both are imported only when the
command runs, so other commands do not pay for them.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer

from dtbot.cli.common import ConfigOption, JsonOption, config_from, emit_json, friendly, out
from dtbot.config import Config


@friendly
def chat(
    text: Annotated[str | None, typer.Argument(help="Ask this, print just the answer.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model id [default: defaultModel].")] = None,
    system: Annotated[str, typer.Option("--system", "-s", help="System prompt.")] = "",
    conversation: Annotated[
        str | None, typer.Option("--conversation", help="Continue this stored conversation (conv_…).")
    ] = None,
    config: ConfigOption = None,
    json: JsonOption = False,
) -> None:
    """Chat with any configured model: one question, piped input, or an interactive session.

    The interactive session is saved as a conversation; a question or piped
    input is saved only into the conversation given with --conversation.
    """
    if text is None and not sys.stdin.isatty():
        text = sys.stdin.read()
    asyncio.run(_chat(config_from(config), text, model, system, conversation, json))


async def _chat(
    config: Config, text: str | None, model: str | None, system: str, conversation: str | None, as_json: bool
) -> None:
    from dtbot.cli.repl import SOURCE, Repl, answer_once
    from dtbot.services.chat_session import ChatSession
    from dtbot.services.runtime import open_runtime

    async with open_runtime(config) as runtime:
        default = (await runtime.settings.load()).default_model
        session = ChatSession(model=model or default, source=SOURCE, system=system)
        if conversation:
            stored = await runtime.conversations.get(conversation, None)
            session = ChatSession(
                model=model or stored.model, source=SOURCE, system=stored.system_prompt, conversation_id=conversation
            )
        if text is None:
            await Repl(runtime, session, out).run()
            return
        if as_json:
            emit_json(await runtime.chat.complete(session.request(text.strip(), stream=False), session.caller))
            return
        write = sys.stdout.write
        answer = await answer_once(runtime, session, text.strip(), lambda piece: (write(piece), sys.stdout.flush()))
        if not answer.endswith("\n"):
            write("\n")
