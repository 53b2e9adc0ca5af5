"""What every command shares: the `--config` and `--json` options, one runtime, errors as one line."""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec, TypeVar

import msgspec
import typer
from rich.console import Console

from dtbot.config import Config, load_config
from dtbot.errors import ConfigError, DtbotError

if TYPE_CHECKING:
    from dtbot.services.runtime import Runtime

P = ParamSpec("P")
T = TypeVar("T")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="config.toml to read (default: $DTBOT_CONFIG, then ./config.toml).", show_default=False
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]

out = Console(soft_wrap=True)
err = Console(stderr=True)

USAGE_ERROR = 2
FAILURE = 1


def fail(message: str, code: int = FAILURE) -> NoReturn:
    """Print one red line on stderr and exit with `code`."""
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code)


def friendly(command: Callable[P, T]) -> Callable[P, T]:
    """Turn configuration and service errors into one readable line and an exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return command(*args, **kwargs)
        except ConfigError as error:
            fail(str(error), USAGE_ERROR)
        except DtbotError as error:
            fail(f"{error.message} ({error.code})", USAGE_ERROR if error.is_user_error else FAILURE)
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper


def config_from(path: Path | None, **flags: Any) -> Config:
    """The configuration for a command, with its flags as the highest-priority source."""
    return load_config(path, overrides=flags)


def with_runtime(config: Config, work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run `work` on a fresh runtime and close it afterwards."""
    from dtbot.services.runtime import open_runtime  # imported when a command runs: `dtbot --help` stays quick

    async def main() -> T:
        async with open_runtime(config) as runtime:
            return await work(runtime)

    return asyncio.run(main())


def emit_json(value: Any) -> None:
    """Write `value` as pretty JSON on stdout (UTF-8, Chinese kept readable)."""
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value), indent=2).decode() + "\n")
