"""The `Runtime`: every collaborator the services need, built once from the configuration."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from dtbot import logs
from dtbot.cache import Cache, build_cache
from dtbot.clock import zone
from dtbot.config import Config
from dtbot.dingtalk.client import DingTalkClient
from dtbot.dingtalk.messages import IncomingMessage
from dtbot.dingtalk.stream import StreamReceiver
from dtbot.errors import DatabaseUnavailable
from dtbot.providers import ProviderRegistry, ProviderSettings
from dtbot.services.access import AccessService
from dtbot.services.activity import ActivityService
from dtbot.services.chat import ChatService
from dtbot.services.conversations import ConversationService
from dtbot.services.dingtalk.delivery import Delivery
from dtbot.services.dingtalk.inbox import Inbox
from dtbot.services.dingtalk.robot import EMPTY, RobotService
from dtbot.services.dingtalk.sending import SendService
from dtbot.services.dingtalk.workers import RobotWorkers
from dtbot.services.events import KEYS_CHANGED
from dtbot.services.health import HealthService
from dtbot.services.keys import KeyService
from dtbot.services.models import ModelService
from dtbot.services.settings import RuntimeSettings, SettingsService
from dtbot.services.stats import StatsService
from dtbot.services.usage import UsageRecorder, UsageService
from dtbot.store import Database
from dtbot.tokens import warm_tokenizer


class Runtime:
    """One per process: the database, the cache and the services over them."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.zone = zone(config.server.timezone)
        self.db = Database(
            config.database.url, pool_size=config.database.pool_size, connect_timeout=config.database.connect_timeout
        )
        self.cache: Cache = build_cache(config.redis.url)
        self.keys = KeyService(self.db, self.cache, self.zone)
        self.settings = SettingsService(self.db, self.cache, config)
        self.access = AccessService(self.keys, self.settings, self.cache)
        self.usage = UsageService(self.db)
        self.recorder = UsageRecorder(self.usage)
        self.stats = StatsService(self.db, self.zone)
        self.activity = ActivityService(self.db, self.zone)
        self.health = HealthService(self.db, self.cache, config, self.zone)
        self.models = ModelService(config)
        self.providers = ProviderRegistry(provider_settings(config))
        self.conversations = ConversationService(self.db, self.models, self.settings, self.zone)
        self.chat = ChatService(self.models, self.providers, self.settings, self.recorder, self.conversations)
        robot = config.dingtalk
        self.dingtalk = DingTalkClient(robot.api_base, robot.app_key, robot.app_secret, robot.allowlist)
        self.inbox = Inbox(self.db, self.zone, lease_seconds=robot.lease_seconds)
        self.delivery = Delivery(self.dingtalk, robot)
        self.robot = RobotService(
            robot,
            self.cache,
            self.inbox,
            self.chat,
            self.conversations,
            self.models,
            self.settings,
            self.stats,
            self.delivery,
            self.dingtalk,
        )
        self.sender = SendService(self.dingtalk, self.cache, robot)
        self.robot_workers = RobotWorkers(
            self.robot, self.inbox, self.cache, count=robot.workers, requeue_seconds=robot.requeue_seconds
        )
        self._stream: StreamReceiver | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self, *, robot: bool = False) -> None:
        """Load the settings and keep them current, write usage in the background; with `robot` (the
        server), also answer DingTalk messages, received over Stream mode when so configured."""
        self.settings.on_change(self._apply_logging)
        self._apply_logging(await self.settings.load())
        self._tasks.append(asyncio.create_task(self.settings.watch(self._on_event), name="settings-watch"))
        self.recorder.start()
        dingtalk = self.config.dingtalk
        if robot and dingtalk.enabled:
            # Every robot answer counts tokens: load the tokenizer now (about 0.3 s, holding the GIL),
            # not in the middle of the first answers, where it would stall every request in flight.
            warm_tokenizer()
            self.robot_workers.start()
        if robot and dingtalk.mode == "stream":
            self._stream = StreamReceiver(dingtalk.api_base, dingtalk.app_key, dingtalk.app_secret, self._from_stream)
            self._tasks.append(asyncio.create_task(self._stream.run(), name="dingtalk-stream"))

    async def _from_stream(self, message: IncomingMessage) -> None:
        # No HTTP answer carries a quick reply in Stream mode: it goes out like any other.
        reply = await self.robot.accept(message)
        if reply != EMPTY:
            await self.delivery.deliver(message, [reply])

    def _apply_logging(self, settings: RuntimeSettings) -> None:
        logs.configure(settings.log_level, enabled=settings.enable_logging, fmt=self.config.server.log_format)

    def _on_event(self, event: str) -> None:
        if event == KEYS_CHANGED:
            self.keys.forget()

    async def close(self) -> None:
        """Stop background work and release connections."""
        await self.robot_workers.stop()
        if self._stream is not None:
            await self._stream.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.chat.drain()
        await self.providers.close()
        await self.dingtalk.close()
        with contextlib.suppress(DatabaseUnavailable):
            await self.recorder.close()
        await self.cache.close()
        await self.db.close()


def provider_settings(config: Config) -> list[ProviderSettings]:
    """The adapters' settings for every provider that has a key."""
    return [
        ProviderSettings(
            name=name,
            kind=provider.kind,
            api_key=provider.api_key,
            base_url=provider.base_url,
            connect_timeout=provider.connect_timeout,
            first_token_timeout=provider.first_token_timeout,
            total_timeout=provider.total_timeout,
            max_retries=provider.max_retries,
            retry_backoff=provider.retry_backoff,
        )
        for name, provider in config.providers.items()
        if provider.configured
    ]


@asynccontextmanager
async def open_runtime(config: Config) -> AsyncIterator[Runtime]:
    """A runtime for one command or test, closed on exit."""
    runtime = Runtime(config)
    try:
        yield runtime
    finally:
        await runtime.close()
