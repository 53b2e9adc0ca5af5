"""dtbot: a DingTalk robot and one OpenAI-compatible API in front of several LLM providers."""

__version__ = "1.0.0"
