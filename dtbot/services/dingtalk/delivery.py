"""Delivering a reply: the message's sessionWebhook while it is valid, else (or when it fails) the OpenAPI."""

from __future__ import annotations

import time
from typing import Any

from dtbot import logs
from dtbot.config.schema import DingTalkConfig
from dtbot.dingtalk.client import DingTalkClient, DingTalkError
from dtbot.dingtalk.messages import IncomingMessage
from dtbot.metrics import DELIVERIES
from dtbot.services.dingtalk.inbox import sender_of

SESSION_WEBHOOK, OPENAPI = "session_webhook", "openapi"
EXPIRY_MARGIN_MS = 60_000  # a webhook about to expire is not worth trying
_log = logs.get("dingtalk.delivery")


class Delivery:
    """Posts reply bodies in order; returns the path that delivered them."""

    def __init__(self, client: DingTalkClient, config: DingTalkConfig) -> None:
        self._client = client
        self._config = config

    async def deliver(self, message: IncomingMessage, bodies: list[dict[str, Any]]) -> str:
        """Send every body; raises `DingTalkError` when neither path works."""
        try:
            path = await self._deliver(message, bodies)
        except DingTalkError:
            DELIVERIES.labels(OPENAPI, "error").inc()
            raise
        DELIVERIES.labels(path, "ok").inc()
        return path

    async def _deliver(self, message: IncomingMessage, bodies: list[dict[str, Any]]) -> str:
        sent = 0
        expires = message.session_webhook_expired_time or 0
        if message.session_webhook and time.time() * 1000 < expires - EXPIRY_MARGIN_MS:
            try:
                for body in bodies:
                    await self._client.post_webhook(message.session_webhook, body)
                    sent += 1
                return SESSION_WEBHOOK
            except DingTalkError as error:
                DELIVERIES.labels(SESSION_WEBHOOK, "error").inc()
                _log.warning("sessionWebhook failed for %s, using the OpenAPI: %s", message.msg_id, error.message)
        robot = self._config.robot_code or message.robot_code or self._config.app_key
        for body in bodies[sent:]:
            if message.is_group:
                await self._client.send_to_group(robot, message.conversation_id, body)
            else:
                await self._client.send_to_users(robot, [sender_of(message)], body)
        return OPENAPI
