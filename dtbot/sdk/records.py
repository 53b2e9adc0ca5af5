"""Answers as objects: `response.choices[0].message.content`, as the OpenAI SDKs give them."""

from __future__ import annotations

from typing import Any


class Record:
    """A JSON object with attribute access (and item access, and `to_dict()`).

    As in OpenAI's SDKs, a field the answer left out reads as None (a role
    chunk's `delta.content`, say); item access still raises KeyError.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return wrap(self._data.get(name))

    def __getitem__(self, name: str) -> Any:
        return wrap(self._data[name])

    def get(self, name: str, default: Any = None) -> Any:
        return wrap(self._data.get(name, default))

    def to_dict(self) -> dict[str, Any]:
        """The plain JSON object."""
        return self._data

    def __repr__(self) -> str:
        return f"Record({self._data!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and other._data == self._data


def wrap(value: Any) -> Any:
    """Objects become Records, lists keep wrapping, everything else stays."""
    if isinstance(value, dict):
        return Record(value)
    if isinstance(value, list):
        return [wrap(item) for item in value]
    return value
