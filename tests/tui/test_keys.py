"""Keys: create one (its secret shown once and usable at once), revoke one (unusable at once)."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from dtbot.errors import InvalidApiKey
from dtbot.tui.screens.confirm import ConfirmScreen
from dtbot.tui.screens.keys import KeysScreen
from dtbot.tui.screens.new_key import NewKeyScreen, SecretScreen
from dtbot.tui.widgets.fit_table import FitTable
from tests.tui.conftest import SIZE, dashboard
from tests.tui.support import column, text_of, until


def table(app: object) -> FitTable:
    return app.screen.query_one("#keys", FitTable)  # type: ignore[attr-defined]


async def test_create_then_revoke_a_key(database: str) -> None:
    app = dashboard(database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5")
        assert isinstance(app.screen, KeysScreen)
        await until(pilot, lambda: len(table(app).rows_shown) == 3, "the keys")
        assert column(table(app), "status") == ["active", "active", "revoked 06-24"]

        await pilot.press("n")
        assert isinstance(app.screen, NewKeyScreen)
        await pilot.press(*"deploy-bot", "enter")
        await until(pilot, lambda: isinstance(app.screen, SecretScreen), "the secret")
        secret = text_of(app.screen.query_one("#secret", Static))
        assert secret.startswith("dtb_")
        principal = await app.runtime.keys.authenticate(secret)
        assert (principal.name, principal.role) == ("deploy-bot", "user")
        await pilot.press("c")  # copies; the secret stays on screen until closed
        assert app.clipboard == secret
        await pilot.press("enter")
        assert isinstance(app.screen, KeysScreen)
        await until(pilot, lambda: len(table(app).rows_shown) == 4, "the new row")
        assert table(app).current_key() == principal.key_id
        assert "deploy-bot" in column(table(app), "name")
        assert secret not in str(table(app).rows_shown)  # only the prefix is listed

        await pilot.press("x")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: column(table(app), "status")[-1].startswith("revoked"), "the revocation")
        app.runtime.keys.forget()
        with pytest.raises(InvalidApiKey):
            await app.runtime.keys.authenticate(secret)

        await pilot.press("a")  # hide the revoked ones
        await until(pilot, lambda: len(table(app).rows_shown) == 2, "the active keys only")


async def test_an_empty_name_is_refused_with_the_service_message(database: str) -> None:
    app = dashboard(database)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("5", "n", "enter")
        error = app.screen.query_one("#key-error", Static)
        await until(pilot, lambda: "40003" in text_of(error), "the error")
        assert text_of(error) == "参数格式错误: name: must be 1 to 100 characters (40003)"
        assert isinstance(app.screen, NewKeyScreen)  # still open, to correct the name
        await pilot.press("escape")
        assert isinstance(app.screen, KeysScreen)
        assert len(await app.runtime.keys.list()) == 3
