"""Chat: an answer streams in from a fake upstream; the session is saved as a conversation, with its usage."""

from __future__ import annotations

from textual.widgets import Input

from dtbot.services.activity import ActivityService
from dtbot.services.runtime import open_runtime
from dtbot.tui.screens.chat import ChatScreen
from dtbot.tui.widgets.message import MessageView
from tests.fakes.llm import FakeLLM
from tests.tui.conftest import SIZE, config_for, dashboard
from tests.tui.support import paste, until


def answer(screen: ChatScreen) -> MessageView:
    return screen.query(MessageView).last()


async def test_the_answer_streams_in_and_the_session_is_saved(empty_database: str) -> None:
    async with FakeLLM() as fake:
        env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake.base_url("openai")}
        app = dashboard(empty_database, **env)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("3")
            screen = app.screen
            assert isinstance(screen, ChatScreen)
            assert screen.session.model == "gpt-3.5-turbo"  # the default model
            await pilot.press("enter")  # from the log into the input
            assert app.focused is screen.query_one("#prompt", Input)
            await paste(pilot, "你好 [[fake:chunks=4,chunk_delay=0.3]]")
            await pilot.press("enter")
            await until(pilot, lambda: answer(screen).body.source.startswith("Echo"), "the first piece")
            partial = answer(screen).body.source
            await until(pilot, lambda: answer(screen).body.source == "Echo: 你好", "the whole answer")
            assert partial != "Echo: 你好"  # it arrived in pieces, shown as they came
            await until(pilot, lambda: "tokens" in answer(screen).heading, "the usage in the caption")
            assert fake.requests[-1].body["stream"] is True
            conversation_id = screen.session.conversation_id
            assert conversation_id is not None

            await pilot.press(*"again", "enter")  # the second turn goes into the same conversation
            await until(pilot, lambda: answer(screen).body.source == "Echo: again", "the second answer")
            history = fake.requests[-1].body["messages"]
            assert [m["role"] for m in history] == ["user", "assistant", "user"]
    async with open_runtime(config_for(empty_database, **env)) as runtime:
        stored = await runtime.conversations.messages(conversation_id, None)
        assert [(m.role, m.content) for m in stored.messages] == [
            ("user", "你好 [[fake:chunks=4,chunk_delay=0.3]]"),
            ("assistant", "Echo: 你好"),
            ("user", "again"),
            ("assistant", "Echo: again"),
        ]
        calls = await ActivityService(runtime.db, runtime.zone).recent_calls()
        assert [(call.source, call.model, call.status) for call in calls] == [("tui", "gpt-3.5-turbo", "ok")] * 2


async def test_escape_stops_an_answer_and_keeps_what_arrived(empty_database: str) -> None:
    async with FakeLLM() as fake:
        env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake.base_url("openai")}
        app = dashboard(empty_database, **env)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("3", "enter")
            await paste(pilot, "slow [[fake:chunks=5,chunk_delay=0.5]]")
            await pilot.press("enter")
            screen = app.screen
            assert isinstance(screen, ChatScreen)
            await until(pilot, lambda: answer(screen).body.source.startswith("Echo"), "the first piece")
            await pilot.press("escape")
            await until(pilot, lambda: "stopped" in answer(screen).heading, "the stop")
            conversation_id = screen.session.conversation_id
            assert conversation_id is not None
            assert app.focused is screen.query_one("#prompt", Input)  # still there to type the next one
    async with open_runtime(config_for(empty_database, **env)) as runtime:
        stored = (await runtime.conversations.messages(conversation_id, None)).messages
        assert stored[-1].role == "assistant" and stored[-1].cut_off


async def test_a_model_without_a_key_says_which_variable_to_set(empty_database: str) -> None:
    app = dashboard(empty_database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3", "enter", *"hello", "enter")
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await until(pilot, lambda: "error" in answer(screen).heading, "the error")
        assert "OPENAI_API_KEY" in answer(screen).body.source and "40004" in answer(screen).body.source
        assert screen.session.conversation_id is None  # nothing saved for a question that could not be asked
