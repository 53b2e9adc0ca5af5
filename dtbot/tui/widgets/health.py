"""The health panel: the overall status, the database, Redis and each LLM provider, each with a coloured dot."""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from dtbot.services.health import DEGRADED, HEALTHY, UNHEALTHY, Health

COLOURS = {HEALTHY: "$success", DEGRADED: "$warning", UNHEALTHY: "$error"}  # anything else (disabled …) is muted


def dot(status: str) -> Content:
    """`● status`, coloured by how good it is."""
    colour = COLOURS.get(status, "$text-muted")
    return Content.assemble(("●", colour), " ", (status, colour if status in COLOURS else "$text-muted"))


class HealthPanel(Widget):
    """Shows the latest `Health`, or that it has not been checked yet."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Health"
        self.health: Health | None = None

    def show(self, health: Health) -> None:
        self.health = health
        self.border_title = Content.assemble("Health ", dot(health.status))
        self.refresh(layout=True)

    def render(self) -> Content:
        if self.health is None:
            return Content.styled("checking…", "$text-muted")
        services = self.health.services
        rows = [("database", services.database), ("redis", services.redis)]
        rows += list(services.llm_providers.items())
        width = max(len(name) for name, _ in rows) + 1
        return Content("\n").join(Content.assemble(name.ljust(width), dot(status)) for name, status in rows)
