"""Keys: the API keys (never their secrets), create one (its secret shown once), revoke one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Static

from dtbot.services.keys import CreatedKey, KeyInfo
from dtbot.tui.format import count, short_stamp
from dtbot.tui.screens.base import DashboardScreen
from dtbot.tui.screens.confirm import ConfirmScreen
from dtbot.tui.screens.new_key import NewKeyScreen, SecretScreen
from dtbot.tui.widgets.fit_table import Column, FitTable

COLUMNS = (
    Column("name", 12),
    Column("role", 6),
    Column("prefix", 13),
    Column("created", 11),
    Column("last used", 11),
    Column("status", 13),
)


def state(key: KeyInfo) -> str:
    return f"revoked {key.revoked_at:%m-%d}" if key.revoked_at else "active"


class KeysScreen(DashboardScreen):
    """Oldest first; revoked keys are listed too unless hidden with `a`."""

    MODE = "keys"
    HELP = "A key's secret is shown once, when it is created; only its prefix is stored in clear."
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "create", "New key"),
        Binding("x,delete", "revoke", "Revoke"),
        Binding("a", "toggle_revoked", "Revoked"),
        Binding("r", "reload", "Refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[KeyInfo] = []
        self.show_revoked = True

    def compose_body(self) -> Iterable[Widget]:
        yield FitTable(COLUMNS, stretch="name", id="keys")
        yield Static("", id="keys-status", classes="status-line")

    def on_mount(self) -> None:
        self.query_one(FitTable).focus()
        self.load()

    @work(group="keys", exclusive=True, exit_on_error=False)
    async def load(self, select: str | None = None) -> None:
        self.show(await self.runtime.keys.list(include_revoked=self.show_revoked), select)

    def show(self, keys: list[KeyInfo], select: str | None = None) -> None:
        table = self.query_one(FitTable)
        self.keys = keys
        rows = [
            (
                key.id,
                {
                    "name": key.name,
                    "role": key.role,
                    "prefix": key.prefix + "…",
                    "created": short_stamp(key.created_at),
                    "last used": short_stamp(key.last_used_at) if key.last_used_at else "never",
                    "status": state(key),
                },
            )
            for key in keys
        ]
        table.replace(rows)
        ids = [key.id for key in keys]
        if select in ids:
            table.move_cursor(row=ids.index(select), animate=False)
        active = sum(1 for key in keys if key.revoked_at is None)
        hidden = "" if self.show_revoked else " · revoked hidden"
        self.query_one("#keys-status", Static).update(f"{count(active)} active of {count(len(keys))} listed{hidden}")

    def selected(self) -> KeyInfo | None:
        row = self.query_one(FitTable).cursor_row
        return self.keys[row] if 0 <= row < len(self.keys) else None

    def action_create(self) -> None:
        def created(key: CreatedKey | None) -> None:
            if key is not None:
                self.app.push_screen(SecretScreen(key))
                self.load(select=key.id)

        self.app.push_screen(NewKeyScreen(self.runtime.keys), created)

    def action_revoke(self) -> None:
        key = self.selected()
        if key is None:
            return
        if key.revoked_at is not None:
            self.notify(f"{key.name} is already revoked")
            return
        question = f"Revoke “{key.name}” ({key.prefix}…)? Requests with it fail from now on."

        def answered(yes: bool | None) -> None:
            if yes:
                self.revoke(key)

        self.app.push_screen(ConfirmScreen("Revoke API key", question, action="Revoke"), answered)

    @work(group="keys-change", exit_on_error=False)
    async def revoke(self, key: KeyInfo) -> None:
        await self.runtime.keys.revoke(key.id)
        self.notify(f"revoked {key.name}")
        self.load(select=key.id)

    def action_toggle_revoked(self) -> None:
        self.show_revoked = not self.show_revoked
        self.load()

    def action_reload(self) -> None:
        self.load()
