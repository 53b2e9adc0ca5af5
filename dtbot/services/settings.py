"""Runtime settings (`/api/config`, `dtbot config`): validated, stored, and applied by every process.

Defaults come from the configuration; stored values override them. A change
is published on the cache so other processes reload at once, and each server
also re-reads the table every second, which covers processes without Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import msgspec
from msgspec import UNSET, Struct, UnsetType
from sqlalchemy import select

from dtbot import logs
from dtbot.clock import utcnow
from dtbot.config import Config
from dtbot.config.schema import PerMinute, TokenCount
from dtbot.errors import CacheUnavailable, DatabaseUnavailable, InvalidParameter, ModelNotSupported
from dtbot.services.events import CHANNEL, SETTINGS_CHANGED
from dtbot.store import Database
from dtbot.store.models import Setting

if TYPE_CHECKING:
    from dtbot.cache import Cache

POLL_SECONDS = 1.0
_log = logs.get("settings")

LogLevel = Literal["debug", "info", "warning", "error"]


class RuntimeSettings(Struct, rename="camel", kw_only=True, frozen=True):
    """The settings a running server applies, as the API document names them."""

    max_tokens_per_request: TokenCount
    default_model: str
    rate_limit_per_minute: PerMinute
    enable_stream_response: bool = True
    enable_logging: bool = True
    log_level: LogLevel = "info"


class SettingsChange(Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """A partial update: any subset of the settings, nothing else."""

    max_tokens_per_request: TokenCount | UnsetType = UNSET
    default_model: str | UnsetType = UNSET
    rate_limit_per_minute: PerMinute | UnsetType = UNSET
    enable_stream_response: bool | UnsetType = UNSET
    enable_logging: bool | UnsetType = UNSET
    log_level: LogLevel | UnsetType = UNSET


KEYS: tuple[str, ...] = tuple(RuntimeSettings.__struct_encode_fields__)


def _describe(error: msgspec.ValidationError) -> str:
    text = str(error)
    if " - at `$." in text:
        problem, _, where = text.rpartition(" - at `$.")
        return f"{where.rstrip('`')}: {problem[0].lower()}{problem[1:]}"
    if text.startswith("Object contains unknown field"):
        name = text.split("`")[1]
        return f"{name}: unknown setting; known settings are {', '.join(KEYS)}"
    return text


def parse_text(text: str) -> Any:
    """A value typed on a command line: JSON when it parses (numbers, booleans), else the text itself."""
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError:
        return text


class SettingsService:
    """Read, change and watch the runtime settings."""

    def __init__(self, db: Database, cache: Cache, config: Config) -> None:
        self._db = db
        self._cache = cache
        self._config = config
        self._listeners: list[Callable[[RuntimeSettings], None]] = []
        self.current = self.defaults()

    def defaults(self) -> RuntimeSettings:
        """The settings before anything is stored, from the configuration."""
        limits = self._config.limits
        return RuntimeSettings(
            max_tokens_per_request=limits.max_tokens_per_request,
            default_model=limits.default_model,
            rate_limit_per_minute=limits.rate_limit_per_minute,
            log_level=self._config.server.log_level,
        )

    def on_change(self, listener: Callable[[RuntimeSettings], None]) -> None:
        """Call `listener` with the new settings whenever they change in this process."""
        self._listeners.append(listener)

    def _apply(self, settings: RuntimeSettings) -> RuntimeSettings:
        if settings != self.current:
            self.current = settings
            for listener in self._listeners:
                listener(settings)
        return settings

    async def load(self) -> RuntimeSettings:
        """Read the stored settings over the defaults, and apply them to this process."""
        async with self._db.session() as session:
            rows = (await session.execute(select(Setting.key, Setting.value).where(Setting.key.in_(KEYS)))).all()
        merged = msgspec.to_builtins(self.defaults()) | {key: value for key, value in rows}
        try:
            settings = msgspec.convert(merged, RuntimeSettings)
        except msgspec.ValidationError as error:  # a value stored by an older version; keep the defaults
            _log.error("ignoring stored settings: %s", _describe(error))
            settings = self.defaults()
        return self._apply(settings)

    def validate(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """The checked changes; raises 40003 naming the key, or 40004 for a model not in the catalog."""
        if not isinstance(changes, Mapping) or not changes:
            raise InvalidParameter("参数格式错误: body: expected an object with at least one setting")
        try:
            change = msgspec.convert(dict(changes), SettingsChange)
        except msgspec.ValidationError as error:
            raise InvalidParameter(f"参数格式错误: {_describe(error)}") from None
        checked = {key: value for key, value in msgspec.to_builtins(change).items()}
        model = checked.get("defaultModel")
        if model is not None and model not in self._config.models:
            raise ModelNotSupported(f"模型不支持: defaultModel: {model!r} is not in the model catalog")
        return checked

    async def update(self, changes: Mapping[str, Any]) -> RuntimeSettings:
        """Validate, store and announce a change; returns the settings now in force."""
        checked = self.validate(changes)
        now = utcnow()
        async with self._db.session() as session:
            for key, value in checked.items():
                await session.merge(Setting(key=key, value=value, updated_at=now))
            await session.commit()
        settings = await self.load()
        with contextlib.suppress(CacheUnavailable):  # the others' poll picks it up within a second
            await self._cache.publish(CHANNEL, SETTINGS_CHANGED)
        return settings

    async def watch(self, on_event: Callable[[str], None] | None = None) -> None:
        """Keep this process current: reload on a published change, and at least every second."""
        while True:
            try:
                async with self._cache.subscribe(CHANNEL) as events:
                    while True:
                        event = await events.next(POLL_SECONDS)
                        if event is not None and on_event is not None:
                            on_event(event)
                        await self._reload_quietly()
            except CacheUnavailable:
                await self._reload_quietly()
                await asyncio.sleep(POLL_SECONDS)

    async def _reload_quietly(self) -> None:
        with contextlib.suppress(DatabaseUnavailable):
            await self.load()
