"""One runtime setting in the Config form: its name, an input that fits its type, and a hint or an error."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Label, Select, Static, Switch

from dtbot.services.settings import parse_text


def hint(kind: msgspec.inspect.Type) -> str:
    """What the setting's type accepts, in words."""
    if isinstance(kind, msgspec.inspect.BoolType):
        return "on/off (space)"
    if isinstance(kind, msgspec.inspect.LiteralType):
        return "/".join(str(value) for value in kind.values)
    if isinstance(kind, msgspec.inspect.IntType):
        low = "" if kind.ge is None else f"{kind.ge:,}"
        high = "" if kind.le is None else f"{kind.le:,}"
        return f"{low} – {high}" if low and high else "a whole number"
    return "text"


class SettingField(Vertical):
    """`value()` is what the form holds, typed as `PUT /api/config` would receive it."""

    def __init__(
        self, key: str, kind: msgspec.inspect.Type, description: str, *, suggestions: Sequence[str] = ()
    ) -> None:
        super().__init__(id=f"field-{key}", classes="setting-field")
        self.key = key
        self.kind = kind
        self.help = f"{hint(kind)} · {description}" if description else hint(kind)
        self.suggestions = list(suggestions)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="setting-row"):
            yield Label(self.key, classes="setting-name")
            yield self.make_control()
        yield Static(self.help, classes="setting-note")

    def make_control(self) -> Widget:
        if isinstance(self.kind, msgspec.inspect.BoolType):
            return Switch(id=f"control-{self.key}", classes="setting-control")
        if isinstance(self.kind, msgspec.inspect.LiteralType):
            options = [(str(value), value) for value in sorted(self.kind.values)]
            return Select(options, id=f"control-{self.key}", allow_blank=False, compact=True, classes="setting-control")
        suggester = SuggestFromList(self.suggestions, case_sensitive=True) if self.suggestions else None
        return Input(id=f"control-{self.key}", compact=True, suggester=suggester, classes="setting-control")

    @property
    def control(self) -> Widget:
        return self.query_one(".setting-control")

    def value(self) -> Any:
        control = self.control
        if isinstance(control, Input):
            return parse_text(control.value.strip())
        if isinstance(control, Switch | Select):
            return control.value
        raise TypeError(control)

    def set_value(self, value: Any) -> None:
        control = self.control
        with control.prevent(Input.Changed, Switch.Changed, Select.Changed):
            if isinstance(control, Input):
                control.value = value if isinstance(value, str) else msgspec.json.encode(value).decode()
            elif isinstance(control, Switch | Select):
                control.value = value

    def show_error(self, message: str | None) -> None:
        """An error in place of the hint, or the hint again when `message` is None."""
        note = self.query_one(".setting-note", Static)
        note.update(self.help if message is None else message)
        note.set_class(message is not None, "error-text")
        self.set_class(message is not None, "-invalid")

    @property
    def invalid(self) -> bool:
        return self.has_class("-invalid")
