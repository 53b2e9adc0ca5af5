"""Dependencies the route handlers receive."""

from __future__ import annotations

from litestar.datastructures import State

from dtbot.services.runtime import Runtime


def provide_runtime(state: State) -> Runtime:
    """The process's runtime, built in the app's lifespan."""
    return state.runtime
