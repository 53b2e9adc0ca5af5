"""The Python SDK of the dtbot API, as the API document shows it (also importable as `dingtalk_bot_sdk`).

    from dtbot.sdk import DingTalkBotClient

    client = DingTalkBotClient(base_url="http://127.0.0.1:3000/api", api_key="dtb_…")
    answer = client.chat.completions.create(model="glm-4", messages=[{"role": "user", "content": "你好"}])
    print(answer.choices[0].message.content)

It depends only on httpx: nothing of the server is imported.
"""

from dtbot.sdk.client import AsyncDingTalkBotClient, DingTalkBotClient
from dtbot.sdk.errors import (
    AuthenticationError,
    BadRequestError,
    ConnectionError,
    DtbotAPIError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from dtbot.sdk.records import Record

__all__ = [
    "AsyncDingTalkBotClient",
    "AuthenticationError",
    "BadRequestError",
    "ConnectionError",
    "DingTalkBotClient",
    "DtbotAPIError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "Record",
    "ServerError",
]
