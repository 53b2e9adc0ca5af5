"""System routes: `/health`, `/stats` and `/config`."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, put

from dtbot.metrics import exposition
from dtbot.server.auth import admin_only
from dtbot.server.envelope import Envelope, ok
from dtbot.services.health import UNHEALTHY, Health
from dtbot.services.runtime import Runtime
from dtbot.services.settings import RuntimeSettings
from dtbot.services.stats import Stats


@get("/health", summary="Health of the database, Redis and each LLM provider", tags=["system"])
async def health(runtime: Runtime) -> Response[Health]:
    """The document's shape without the envelope: 200 when healthy or degraded, 503 without a database."""
    report = await runtime.health.check()
    return Response(report, status_code=503 if report.status == UNHEALTHY else 200)


@get("/health/live", summary="Liveness: the process answers (no database or Redis check)", tags=["system"])
async def live() -> dict[str, str]:
    """For a liveness probe: a database outage should take a replica out of service, not restart it."""
    return {"status": "alive"}


@get("/metrics", summary="Prometheus metrics of this process", tags=["system"], include_in_schema=False)
async def metrics() -> Response[bytes]:
    body, content_type = exposition()
    return Response(body, media_type=content_type)


class AdminController(Controller):
    """Routes for admin keys only."""

    guards = [admin_only]  # noqa: RUF012
    tags = ["system"]  # noqa: RUF012

    @get("/stats", summary="Usage totals, today's figures and model shares")
    async def stats(self, runtime: Runtime) -> Envelope[Stats]:
        return ok(await runtime.stats.summary())

    @get("/config", summary="The runtime settings in force")
    async def get_config(self, runtime: Runtime) -> Envelope[RuntimeSettings]:
        return ok(runtime.settings.current)

    @put("/config", summary="Change runtime settings; every server applies them within 2 seconds")
    async def put_config(self, runtime: Runtime, data: dict[str, Any]) -> Envelope[RuntimeSettings]:
        return ok(await runtime.settings.update(data), "配置更新成功")
