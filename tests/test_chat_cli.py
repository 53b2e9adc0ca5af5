"""`dtbot chat` one-shot, piped and as a REPL, and `dtbot conversations`, against the fake upstream."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from dtbot.cli.repl import SOURCE, Repl
from dtbot.config import load_config
from dtbot.services.chat_session import ChatSession
from dtbot.services.conversations import ConversationIn
from dtbot.services.runtime import Runtime, open_runtime
from dtbot.store import migrate
from tests.conftest import provider_env, run_on
from tests.fakes.llm import FakeLLM
from tests.support.backends import Backend, sqlite_backend
from tests.support.servers import BASE_ENV, child_env


def dtbot(backend: Backend, fake: FakeLLM, *args: str, stdin: str | None = None, **env: str):
    full = child_env(backend.env() | provider_env(fake) | env)
    return subprocess.run(
        [sys.executable, "-m", "dtbot", *args],
        env=full,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def local(tmp_path: Path) -> Backend:
    backend = sqlite_backend(tmp_path)
    migrate.upgrade(backend.database_url)
    return backend


def test_one_shot_prints_just_the_answer(local: Backend, fake_llm: FakeLLM) -> None:
    result = dtbot(local, fake_llm, "chat", "-m", "gpt-4", "你好")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Echo: 你好\n"


def test_piped_stdin_with_a_system_prompt(local: Backend, fake_llm: FakeLLM) -> None:
    fake_llm.clear()
    result = dtbot(local, fake_llm, "chat", "-m", "glm-4", "--system", "be terse", stdin="piped question\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Echo: piped question\n"
    assert fake_llm.bodies("zhipu")[0]["messages"][0] == {"role": "system", "content": "be terse"}


def test_one_shot_json_is_an_openai_completion(local: Backend, fake_llm: FakeLLM) -> None:
    result = dtbot(local, fake_llm, "chat", "-m", "claude-3-sonnet", "--json", "hi")
    assert json.loads(result.stdout)["choices"][0]["message"]["content"] == "Echo: hi"


def test_a_missing_provider_key_names_the_variable(local: Backend, fake_llm: FakeLLM) -> None:
    result = dtbot(local, fake_llm, "chat", "-m", "gpt-4", "hi", OPENAI_API_KEY="")
    assert result.returncode == 2
    assert "OPENAI_API_KEY" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_continue_a_conversation_then_manage_it(local: Backend, fake_llm: FakeLLM, tmp_path: Path) -> None:
    async def make(rt: Runtime) -> str:
        created = await rt.conversations.create(ConversationIn(title="脚本会话", model="gpt-4"), None)
        return created.conversation_id

    conversation = run_on(local, make)
    for text in ("first", "second"):
        assert dtbot(local, fake_llm, "chat", "--conversation", conversation, text).returncode == 0
    listed = json.loads(dtbot(local, fake_llm, "conversations", "list", "--json").stdout)
    assert listed["conversations"][0]["messageCount"] == 4
    shown = json.loads(dtbot(local, fake_llm, "conversations", "show", conversation, "--json").stdout)
    assert [m["content"] for m in shown["messages"]] == ["first", "Echo: first", "second", "Echo: second"]
    target = tmp_path / "out.md"
    exported = dtbot(local, fake_llm, "conversations", "export", conversation, "-f", "markdown", "-o", str(target))
    assert exported.returncode == 0 and "# 脚本会话" in target.read_text() and "## assistant" in target.read_text()
    as_json = json.loads(dtbot(local, fake_llm, "conversations", "export", conversation, "--format", "json").stdout)
    assert as_json["conversation"]["conversationId"] == conversation
    bad = dtbot(local, fake_llm, "conversations", "export", conversation, "--format", "pdf")
    assert bad.returncode == 2 and "--format" in bad.stderr
    refused = dtbot(local, fake_llm, "conversations", "delete", conversation, stdin="n\n")
    assert refused.returncode == 1
    assert dtbot(local, fake_llm, "conversations", "delete", conversation, "--yes").returncode == 0
    missing = dtbot(local, fake_llm, "conversations", "show", conversation)
    assert missing.returncode == 2 and conversation in missing.stderr


class Driven:
    """A REPL run in this loop, fed through a pipe, its output captured."""

    def __init__(self, runtime: Runtime, session: ChatSession, pipe: PipeInput) -> None:
        self.buffer = io.StringIO()
        self.console = Console(file=self.buffer, width=120, color_system=None)
        self.pipe = pipe
        self.repl = Repl(runtime, session, self.console, input=self.pipe, output=DummyOutput())
        self.task = asyncio.ensure_future(self.repl.run())

    async def send(self, line: str, expect: str, seconds: float = 10) -> str:
        """Type `line` and wait until the output shows `expect`; returns the new output."""
        start = len(self.buffer.getvalue())
        self.pipe.send_text(line + "\n")
        async with asyncio.timeout(seconds):
            while expect not in self.buffer.getvalue()[start:]:
                await asyncio.sleep(0.02)
        return self.buffer.getvalue()[start:]


@pytest.fixture
async def repl_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Runtime, FakeLLM]]:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    backend = sqlite_backend(tmp_path)
    migrate.upgrade(backend.database_url)
    async with FakeLLM() as fake:
        config = load_config(environ=BASE_ENV | backend.env() | provider_env(fake))
        async with open_runtime(config) as runtime:
            yield runtime, fake


async def test_repl_chats_saves_and_obeys_commands(repl_runtime: tuple[Runtime, FakeLLM]) -> None:
    runtime, fake = repl_runtime
    with create_pipe_input() as pipe:
        driven = Driven(runtime, ChatSession(model="gpt-4", source=SOURCE), pipe)
        assert "Echo: **bold** answer" not in await driven.send("**bold** answer", "Echo: bold answer")  # Markdown
        assert "gpt-99" in await driven.send("/model gpt-99", "not in the model catalog")
        await driven.send("/model glm-4", "model: glm-4")
        await driven.send("/system 你是诗人", "System prompt set.")
        await driven.send("再来一句", "Echo: 再来一句")
        history = await driven.send("/history", "再来一句")
        assert "assistant" in history and "**bold** answer" in history
        assert "qwen-turbo" in await driven.send("/models", "claude-3-sonnet")
        assert "/reset" in await driven.send("/help", "/exit")
        await driven.send("/exit", "")
        await asyncio.wait_for(driven.task, 5)
    conversation_id = driven.repl.session.conversation_id
    stored = await runtime.conversations.get(conversation_id or "", None)
    assert (stored.model, stored.system_prompt, stored.message_count, stored.title) == (
        "glm-4",
        "你是诗人",
        4,
        "**bold** answer",
    )
    assert fake.bodies("zhipu")[0]["messages"][0] == {"role": "system", "content": "你是诗人"}
    assert (Path(os.environ["XDG_STATE_HOME"]) / "dtbot" / "chat_history").read_text().count("+/model ") == 2


async def test_ctrl_c_stops_the_answer_and_keeps_the_session(repl_runtime: tuple[Runtime, FakeLLM]) -> None:
    runtime, _ = repl_runtime
    with create_pipe_input() as pipe:
        driven = Driven(runtime, ChatSession(model="gpt-4", source=SOURCE), pipe)
        driven.pipe.send_text("a long one [[fake:chunks=30,chunk_delay=0.1]]\n")
        async with asyncio.timeout(10):
            while not driven.repl.session.conversation_id:
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.5)
        os.kill(os.getpid(), signal.SIGINT)
        await driven.send("", "(stopped)")
        await driven.send("still here?", "Echo: still here?")
        await driven.send("/exit", "")
        await asyncio.wait_for(driven.task, 5)
    await runtime.chat.drain()
    stored = await runtime.conversations.messages(driven.repl.session.conversation_id or "", None)
    assert [m.cut_off for m in stored.messages] == [False, True, False, False]
