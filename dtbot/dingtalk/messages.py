"""DingTalk's message formats, in one place for callers: what comes in, what goes out, and splitting.

`incoming` parses robot callbacks, `outgoing` validates and builds message
bodies and their OpenAPI form, `split` cuts long answers to DingTalk's limit.
"""

from __future__ import annotations

from dtbot.dingtalk.incoming import (
    GROUP,
    SINGLE,
    AtUser,
    IncomingMessage,
    MessageContent,
    RichTextPart,
    TextBody,
    parse_callback,
)
from dtbot.dingtalk.outgoing import BODY_LIMIT, markdown_message, openapi_param, text_message, validate_outgoing
from dtbot.dingtalk.split import DEFAULT_LIMIT, encoded_size, split_for_dingtalk

__all__ = [
    "BODY_LIMIT",
    "DEFAULT_LIMIT",
    "GROUP",
    "SINGLE",
    "AtUser",
    "IncomingMessage",
    "MessageContent",
    "RichTextPart",
    "TextBody",
    "encoded_size",
    "markdown_message",
    "openapi_param",
    "parse_callback",
    "split_for_dingtalk",
    "text_message",
    "validate_outgoing",
]
