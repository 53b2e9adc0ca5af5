"""`/dingtalk/webhook` (DingTalk's callback, signed, no API key) and `/dingtalk/send` (active sending)."""

from __future__ import annotations

from typing import Any

from litestar import Request, post

from dtbot.server.envelope import Envelope, ok
from dtbot.services.dingtalk.sending import SendResult
from dtbot.services.runtime import Runtime


@post("/dingtalk/webhook", status_code=200, summary="DingTalk robot callback", tags=["dingtalk"])
async def dingtalk_webhook(request: Request, runtime: Runtime) -> Envelope[dict[str, Any]]:
    """Answered at once: `data` is the reply when it needs no model, else `{"msgtype": "empty"}`."""
    return ok(await runtime.robot.receive(request.headers, await request.body()))


@post("/dingtalk/send", status_code=200, summary="Send a message to DingTalk", tags=["dingtalk"])
async def dingtalk_send(runtime: Runtime, data: dict[str, Any]) -> Envelope[SendResult]:
    """text, markdown, link, actionCard or feedCard to a sessionWebhook, a custom robot, users or a group."""
    return ok(await runtime.sender.send(data), "消息发送成功")
