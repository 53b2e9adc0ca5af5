"""A correctly signed DingTalk callback, as `dtbot dingtalk simulate` posts it to check a set-up."""

from __future__ import annotations

import secrets
import time
from typing import Any

from dtbot.dingtalk.signing import sign

SESSION_MINUTES = 90


def simulated_callback(
    text: str, *, group: bool, sender: str, session_webhook: str, bot: str = "dtbot-simulated-bot"
) -> dict[str, Any]:
    """A robot callback as DingTalk sends it: in a group the robot is @-mentioned and the text starts with a space."""
    now = int(time.time() * 1000)
    return {
        "conversationType": "2" if group else "1",
        "conversationId": "cid-simulated-group" if group else f"cid-simulated-{sender}",
        "conversationTitle": "模拟群聊" if group else "",
        "atUsers": [{"dingtalkId": bot}] if group else [],
        "chatbotUserId": bot,
        "msgId": f"msg-simulated-{secrets.token_hex(8)}",
        "msgtype": "text",
        "text": {"content": f" {text}" if group else text},
        "createAt": now,
        "isAdmin": False,
        "isInAtList": group,
        "sessionWebhook": session_webhook,
        "sessionWebhookExpiredTime": now + SESSION_MINUTES * 60_000,
        "senderNick": sender,
        "senderStaffId": sender,
        "senderId": f"$:LWCP_v1:${sender}",
        "robotCode": bot,
    }


def signed_headers(app_secret: str) -> dict[str, str]:
    """The `timestamp` and `sign` headers DingTalk sends with a callback."""
    timestamp = str(int(time.time() * 1000))
    return {"timestamp": timestamp, "sign": sign(timestamp, app_secret)}
