"""Alibaba's Qwen models through DashScope's OpenAI-compatible mode."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from dtbot.providers.openai import OpenAIProvider


class DashScopeProvider(OpenAIProvider):
    """`POST {base_url}/chat/completions`; usage comes in a last chunk with no choices, as with OpenAI."""

    default_base_url = "https://dashscope.aliyuncs.com/compatible-mode/v1"
    error_codes: ClassVar[Mapping[str, bool]] = {
        "Throttling": True,
        "Throttling.RateQuota": True,
        "Throttling.AllocationQuota": False,  # a quota used up, not a burst
        "limit_requests": True,
        "insufficient_quota": False,
        "Arrearage": False,
        "DataInspectionFailed": False,  # content filter
        "data_inspection_failed": False,
        "InternalError": True,
    }
