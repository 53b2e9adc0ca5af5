"""The request class: a JSON body the decoder cannot read is the caller's mistake, a 400 naming the body."""

from __future__ import annotations

from typing import Any

from litestar import Request

from dtbot.errors import UNREADABLE, unreadable


class ApiRequest(Request):
    """Litestar's request, with invalid UTF-8 and too-deep nesting answered as 40003 instead of 500."""

    async def json(self) -> Any:
        """The decoded JSON body."""
        try:
            return await super().json()
        except UNREADABLE as error:
            raise unreadable(error) from None
