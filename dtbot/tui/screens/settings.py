"""Config: the runtime settings as a form, checked by the same rules as `PUT /api/config`, errors by the field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import msgspec
from textual import on, work
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Select, Static, Switch

from dtbot.errors import DtbotError
from dtbot.services.settings import KEYS, RuntimeSettings
from dtbot.tui.screens.base import DashboardScreen
from dtbot.tui.widgets.setting_field import SettingField

DESCRIPTIONS = {
    "maxTokensPerRequest": "largest answer a request may ask",
    "defaultModel": "for requests that name none",
    "rateLimitPerMinute": "requests a minute per API key",
    "enableStreamResponse": "allow stream=true",
    "enableLogging": "off: errors only",
    "logLevel": "servers' log level",
}
MODEL_KEYS = frozenset({"defaultModel"})
SAVED = "saved: running servers apply it within 2 seconds"


def field_message(error: DtbotError, key: str) -> str:
    """The part of a service error that concerns `key` (after `… key: `), with the business code."""
    _, found, rest = error.message.partition(f"{key}: ")
    return f"{rest if found else error.message} ({error.code})"


def mentioned(error: DtbotError) -> str | None:
    """The setting an error names, if any."""
    return next((key for key in KEYS if f"{key}:" in error.message), None)


class SettingsScreen(DashboardScreen):
    """The form shows the settings in force; edits are checked as typed and stored with Ctrl+S."""

    MODE = "settings"
    HELP = (
        "Edit a value; it is checked as you type, with the API's own rules. Ctrl+S stores every change at once; "
        "running servers apply it within two seconds. Tab and Shift+Tab move between fields."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("ctrl+r", "revert", "Revert", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.saved: dict[str, Any] = {}

    def compose_body(self) -> Iterable[Widget]:
        models = [model.id for model in self.runtime.models.list()]
        with VerticalScroll(id="settings-form"):
            for field in msgspec.inspect.type_info(RuntimeSettings).fields:  # type: ignore[union-attr]
                key = field.encode_name
                suggestions = models if key in MODEL_KEYS else ()
                yield SettingField(key, field.type, DESCRIPTIONS.get(key, ""), suggestions=suggestions)
        yield Static("", id="settings-status", classes="status-line")

    def on_mount(self) -> None:
        self.fill(self.runtime.settings.current)
        self.runtime.settings.on_change(self.changed_elsewhere)
        self.load()
        self.query_one("#settings-form").focus()  # not a field: the number keys keep switching tabs until Tab

    @property
    def fields(self) -> dict[str, SettingField]:
        return {field.key: field for field in self.query(SettingField)}

    @work(group="settings", exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        self.fill(await self.runtime.settings.load())

    def fill(self, settings: RuntimeSettings) -> None:
        """Show `settings` in every field and forget the edits."""
        self.saved = msgspec.to_builtins(settings)
        for key, field in self.fields.items():
            field.set_value(self.saved[key])
            field.show_error(None)
        self.show_status()

    def changed_elsewhere(self, settings: RuntimeSettings) -> None:
        """Another process (or `dtbot config set`) changed them: follow, unless the form has edits."""
        if not self.edits():
            self.fill(settings)
        else:
            self.show_status("changed elsewhere meanwhile: Ctrl+R shows the new values")

    def edits(self) -> dict[str, Any]:
        """The fields whose value differs from the settings in force."""
        return {key: field.value() for key, field in self.fields.items() if field.value() != self.saved.get(key)}

    def show_status(self, text: str | None = None) -> None:
        if text is None:
            changed = len(self.edits())
            text = (
                f"{changed} unsaved change{'s' if changed != 1 else ''} · Ctrl+S saves · Ctrl+R reverts"
                if changed
                else "Tab moves through the fields · Ctrl+S saves · running servers apply changes within 2 s"
            )
        self.query_one("#settings-status", Static).update(text)

    def check(self, field: SettingField) -> bool:
        """Validate one field as the API would; show the error beside it."""
        try:
            self.runtime.settings.validate({field.key: field.value()})
        except DtbotError as error:
            field.show_error(field_message(error, field.key))
            return False
        field.show_error(None)
        return True

    @on(Input.Changed)
    @on(Switch.Changed)
    @on(Select.Changed)
    def edited(self, event: Input.Changed | Switch.Changed | Select.Changed) -> None:
        field = next((node for node in event.control.ancestors if isinstance(node, SettingField)), None)
        if field is not None:
            self.check(field)
            self.show_status()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_save()

    def action_save(self) -> None:
        changes = self.edits()
        if not changes:
            self.show_status("nothing to save")
            return
        fields = self.fields
        bad = [key for key in changes if not self.check(fields[key])]
        if bad:
            self.show_status(f"not saved: fix {', '.join(bad)}")
            return
        self.save(changes)

    @work(group="settings", exclusive=True, exit_on_error=False)
    async def save(self, changes: Mapping[str, Any]) -> None:
        try:
            settings = await self.runtime.settings.update(changes)
        except DtbotError as error:
            key = mentioned(error)
            if key is not None:
                self.fields[key].show_error(field_message(error, key))
            self.show_status(f"not saved: {error.message} ({error.code})")
            return
        self.fill(settings)
        self.show_status(SAVED)
        self.notify(SAVED, title="config")

    def action_revert(self) -> None:
        self.fill(self.runtime.settings.current)
