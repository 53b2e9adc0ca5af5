"""The API document's import name for dtbot's Python SDK: `from dingtalk_bot_sdk import DingTalkBotClient`."""

from dtbot.sdk import *  # noqa: F403
from dtbot.sdk import __all__  # noqa: F401
