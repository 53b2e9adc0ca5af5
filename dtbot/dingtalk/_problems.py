"""msgspec's validation errors as the API's `参数格式错误: <field>: <problem>`."""

from __future__ import annotations

import re

import msgspec

from dtbot.errors import InvalidParameter

_AT = re.compile(r"^(?P<problem>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`$")
_NON_EMPTY = re.compile(r"^Expected `(str|array)` of length >= 1$")


def invalid(field: str, problem: str) -> InvalidParameter:
    """The error for one bad field."""
    return InvalidParameter(f"参数格式错误: {field}: {problem}")


def from_msgspec(error: msgspec.MsgspecError, *, prefix: str = "", root: str = "body") -> InvalidParameter:
    """The error for a failed decode or conversion, naming the field as a dotted path (`text.content`)."""
    if not isinstance(error, msgspec.ValidationError):
        return invalid(root, "malformed JSON")
    found = _AT.match(str(error))
    assert found is not None  # the pattern matches any text
    problem, path = found["problem"], (found["path"] or "").lstrip(".")
    if missing := _MISSING.match(problem):
        path, problem = ".".join(filter(None, [path, missing["name"]])), "required"
    elif _NON_EMPTY.match(problem):
        problem = "must not be empty"
    else:
        problem = problem[:1].lower() + problem[1:].replace("`", "")
    field = ".".join(filter(None, [prefix, path])) or root
    return invalid(field, problem)
