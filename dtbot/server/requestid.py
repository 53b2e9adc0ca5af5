"""Give every request an id: the caller's `X-Request-ID` when it is sane, else a new one."""

from __future__ import annotations

import re

from litestar.types import Scope

from dtbot.ids import new_id

HEADER = "x-request-id"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id_of(scope: Scope) -> str:
    """This request's id, assigned on first use and kept in the scope's state."""
    state = scope.setdefault("state", {})  # type: ignore[typeddict-item]
    request_id = state.get("request_id")
    if request_id is None:
        given = next((value for name, value in scope.get("headers", ()) if name == b"x-request-id"), b"")
        text = given.decode("latin-1")
        request_id = state["request_id"] = text if _SANE.match(text) else new_id("req")
    return request_id
