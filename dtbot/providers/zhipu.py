"""Zhipu's GLM models through their OpenAI-like API, which sends `reasoning_content` as DeepSeek does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from dtbot.providers.openai import DROP, OpenAIProvider, Param


class ZhipuProvider(OpenAIProvider):
    """`POST {base_url}/chat/completions`; only the differences from OpenAI are declared."""

    default_base_url = "https://open.bigmodel.cn/api/paas/v4"
    # Codes are strings; several come with HTTP 429 whether or not waiting helps.
    error_codes: ClassVar[Mapping[str, bool]] = {
        "1113": False,  # account in arrears
        "1234": True,  # network error on their side
        "1301": False,  # content filter
        "1302": True,  # too many concurrent requests
        "1303": True,  # too many requests
        "1304": False,  # daily quota used up
        "1305": True,  # overloaded
    }
    params: ClassVar[Mapping[str, Param]] = {
        # GLM takes both in the open interval (0, 1) and rejects 0 and 1 themselves.
        "temperature": Param(low=0.01, high=0.99),
        "top_p": Param(low=0.01, high=0.99),
        "presence_penalty": DROP,
        "frequency_penalty": DROP,
        "seed": DROP,
        "user": DROP,  # GLM's `user_id` wants 6 to 128 characters, which `user` need not have
        "tool_choice": DROP,  # GLM knows only "auto", its default
    }
    # GLM reports usage on the last chunk unasked, and does not document `stream_options`.
    stream_usage_option = False
