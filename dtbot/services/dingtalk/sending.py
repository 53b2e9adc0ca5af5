"""Active sending (`POST /api/dingtalk/send`, `dtbot dingtalk send`): one message to one target.

Targets: a `sessionWebhook`, a custom group robot (`webhook` and its `SEC…`
`secret`, signed, at most 20 messages a minute per robot), or the OpenAPI
(`userIds` or `openConversationId`). Webhook URLs must be on the allow list.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from msgspec import Struct

from dtbot.cache import Cache
from dtbot.config.schema import DingTalkConfig
from dtbot.dingtalk.client import DingTalkClient
from dtbot.dingtalk.messages import validate_outgoing
from dtbot.dingtalk.signing import signed_webhook_url
from dtbot.errors import CacheUnavailable, InvalidParameter, RateLimited
from dtbot.ids import new_id
from dtbot.metrics import RATE_LIMITED

TARGETS = ("sessionWebhook", "webhook", "userIds", "openConversationId")
ROBOT_PER_MINUTE = 20


class SendResult(Struct, rename="camel"):
    """The document's answer: our id for the message and when it was sent (ms)."""

    message_id: str
    timestamp: int


class SendService:
    """Validates a send request and makes exactly one call to DingTalk."""

    def __init__(self, client: DingTalkClient, cache: Cache, config: DingTalkConfig) -> None:
        self._client = client
        self._cache = cache
        self._config = config

    async def send(self, payload: dict[str, Any]) -> SendResult:
        """Send; 40003 naming the field for a bad body or target, 42901 over a custom robot's limit."""
        if not isinstance(payload, dict):
            raise InvalidParameter("参数格式错误: body: expected an object")
        message = validate_outgoing(payload)
        targets = [name for name in TARGETS if payload.get(name)]
        if len(targets) != 1:
            raise InvalidParameter(f"参数格式错误: target: give exactly one of {', '.join(TARGETS)}")
        target = targets[0]
        if target == "sessionWebhook":
            await self._client.post_webhook(_string(payload, target), message)
        elif target == "webhook":
            await self._custom_robot(_string(payload, target), payload.get("secret"), message)
        else:
            robot = payload.get("robotCode") or self._config.robot_code or self._config.app_key
            if not robot:
                raise InvalidParameter("参数格式错误: robotCode: required (or set DINGTALK_ROBOT_CODE)")
            if target == "userIds":
                users = payload[target]
                if not isinstance(users, list) or not all(isinstance(u, str) and u for u in users):
                    raise InvalidParameter("参数格式错误: userIds: expected a list of user ids")
                await self._client.send_to_users(robot, users, message)
            else:
                await self._client.send_to_group(robot, _string(payload, target), message)
        return SendResult(message_id=new_id("msg"), timestamp=int(time.time() * 1000))

    async def _custom_robot(self, webhook: str, secret: Any, message: dict[str, Any]) -> None:
        self._client.check_url(webhook)
        if secret is not None and not isinstance(secret, str):
            raise InvalidParameter("参数格式错误: secret: expected the robot's SEC… secret as text")
        robot = hashlib.sha256(webhook.encode()).hexdigest()[:24]  # the URL carries the robot's access token
        try:
            decision = await self._cache.hit(f"dingtalk:robot:{robot}", ROBOT_PER_MINUTE, 60)
        except CacheUnavailable:
            decision = None  # DingTalk enforces the same limit itself
        if decision is not None and not decision.allowed:
            RATE_LIMITED.inc()
            raise RateLimited(
                f"请求频率超限: a custom robot takes at most {ROBOT_PER_MINUTE} messages a minute",
                headers={"Retry-After": str(decision.retry_after)},
            )
        url = signed_webhook_url(webhook, secret, int(time.time() * 1000)) if secret else webhook
        await self._client.post_webhook(url, message)


def _string(payload: dict[str, Any], name: str) -> str:
    value = payload[name]
    if not isinstance(value, str):
        raise InvalidParameter(f"参数格式错误: {name}: expected a string")
    return value
