"""Config: the runtime settings as a form, with the API's validation beside each field; saving reaches others."""

from __future__ import annotations

from textual.widgets import Input, Switch

from dtbot.services.runtime import open_runtime
from dtbot.tui.screens.settings import SettingsScreen
from dtbot.tui.widgets.setting_field import SettingField
from tests.tui.conftest import SIZE, config_for, dashboard
from tests.tui.support import text_of, until


def field(app: object, key: str) -> SettingField:
    return app.screen.query_one(f"#field-{key}", SettingField)  # type: ignore[attr-defined]


def note(app: object, key: str) -> str:
    return text_of(field(app, key).query_one(".setting-note"))  # type: ignore[arg-type]


async def test_a_bad_value_is_named_beside_its_field(database: str) -> None:
    app = dashboard(database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        assert isinstance(app.screen, SettingsScreen)
        await pilot.press("tab")  # into the first field, maxTokensPerRequest
        assert app.focused is field(app, "maxTokensPerRequest").control
        await pilot.press("ctrl+a", "ctrl+k", "0")
        assert note(app, "maxTokensPerRequest") == "expected `int` >= 1 (40003)"
        assert field(app, "maxTokensPerRequest").invalid
        await pilot.press("backspace", *"lots")
        assert note(app, "maxTokensPerRequest") == "expected `int`, got `str` (40003)"
        await pilot.press("ctrl+s")  # refused: nothing stored
        assert "not saved: fix maxTokensPerRequest" in text_of(app.screen.query_one("#settings-status"))  # type: ignore[arg-type]
        assert (await app.runtime.settings.load()).max_tokens_per_request == 4000

        await pilot.press("tab")  # defaultModel
        await pilot.press("ctrl+a", "ctrl+k", *"gpt-5")
        assert note(app, "defaultModel") == "'gpt-5' is not in the model catalog (40004)"
        await pilot.press("ctrl+r")  # revert both
        assert not field(app, "maxTokensPerRequest").invalid and not field(app, "defaultModel").invalid
        assert app.screen.query_one("#control-maxTokensPerRequest", Input).value == "4000"


async def test_saved_settings_read_back_through_the_service(database: str) -> None:
    app = dashboard(database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4", "tab", "ctrl+a", "ctrl+k", *"8000")
        await pilot.press("tab", "ctrl+a", "ctrl+k", *"glm-4")
        switch = app.screen.query_one("#control-enableStreamResponse", Switch)
        switch.focus()
        await pilot.press("space")
        assert "3 unsaved changes" in text_of(app.screen.query_one("#settings-status"))  # type: ignore[arg-type]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "saved" in text_of(app.screen.query_one("#settings-status")), "the save")  # type: ignore[arg-type]
    async with open_runtime(config_for(database)) as other:  # another process: a server, the CLI
        stored = await other.settings.load()
    assert stored.max_tokens_per_request == 8000
    assert stored.default_model == "glm-4"
    assert stored.enable_stream_response is False


async def test_a_change_made_elsewhere_shows_in_the_form(database: str) -> None:
    app = dashboard(database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await until(pilot, app.started.is_set, "the runtime to start")
        async with open_runtime(config_for(database)) as other:
            await other.settings.update({"rateLimitPerMinute": 77})
        value = app.screen.query_one("#control-rateLimitPerMinute", Input)
        await until(pilot, lambda: value.value == "77", "the watcher to reload", within=5)
