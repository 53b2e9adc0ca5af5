"""The Litestar application: everything under `/api`, built around one `Runtime`."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

from dtbot import __version__
from dtbot.config import Config, load_config
from dtbot.server.auth import PUBLIC, ApiKeyMiddleware
from dtbot.server.coalesce import coalesce_middleware
from dtbot.server.errors import EXCEPTION_HANDLERS
from dtbot.server.headers import add_response_headers
from dtbot.server.observe import observe_middleware
from dtbot.server.openapi import CompletedJsonRenderPlugin
from dtbot.server.request import ApiRequest
from dtbot.server.routes.chat import chat_completions, models, openai_models
from dtbot.server.routes.conversations import ConversationsController
from dtbot.server.routes.dingtalk import dingtalk_send, dingtalk_webhook
from dtbot.server.routes.keys import KeysController
from dtbot.server.routes.system import AdminController, health, live, metrics
from dtbot.server.state import provide_runtime
from dtbot.services.runtime import Runtime


def announce(key_id: str, secret: str) -> None:
    """Print the first admin key, once, where the operator who started the server sees it."""
    print(
        f"No API key existed, so an admin key was created ({key_id}):\n{secret}\n"
        "It is shown only now. Create more with: dtbot keys create NAME [--role admin|user]",
        flush=True,
    )


def cors(origins: list[str]) -> CORSConfig | None:
    """Browser access from `origins` (an API key is still needed); None, CORS off, when there are none."""
    if not origins:
        return None
    return CORSConfig(
        allow_origins=origins,
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Retry-After"],
        max_age=600,
    )


def create_app(config: Config | None = None) -> Litestar:
    """The app for `config` (loaded from the environment and `DTBOT_CONFIG` when not given)."""
    config = config or load_config()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        runtime = Runtime(config)
        app.state.runtime = runtime
        try:
            await runtime.start(robot=True)
            created = await runtime.keys.bootstrap()
            if created is not None:
                announce(created.id, created.key)
            # What start-up made lives as long as the process: keep it out of every full collection.
            gc.collect()
            gc.freeze()
            yield
        finally:
            await runtime.close()

    api = Router(
        path="/api",
        route_handlers=[
            health,
            live,
            AdminController,
            KeysController,
            models,
            chat_completions,
            ConversationsController,
            dingtalk_webhook,
            dingtalk_send,
            Router(path="/v1", route_handlers=[openai_models, chat_completions]),
        ],
        dependencies={"runtime": Provide(provide_runtime, sync_to_thread=False)},
    )
    return Litestar(
        route_handlers=[api, metrics],
        lifespan=[lifespan],
        middleware=[observe_middleware, coalesce_middleware, DefineMiddleware(ApiKeyMiddleware, exclude=PUBLIC)],
        before_send=[add_response_headers],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_class=ApiRequest,
        request_max_body_size=config.server.max_body_bytes,
        cors_config=cors(config.server.cors_allowed),
        openapi_config=OpenAPIConfig(
            title="dtbot API",
            version=__version__,
            description="钉钉机器人与LLM大模型集成系统 API: the DingTalk robot and an OpenAI-compatible gateway.",
            path="/api/schema",
            render_plugins=[SwaggerRenderPlugin(), CompletedJsonRenderPlugin()],
        ),
        debug=False,
    )
