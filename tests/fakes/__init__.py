"""Fake upstream servers on 127.0.0.1 that speak the real wire formats, for tests of dtbot.

`tests.fakes.llm.FakeLLM` serves OpenAI, Zhipu, DashScope and Anthropic; its
module docstring says how to start it and read what it received, and
`tests.fakes.script` lists the faults a request can ask for.
"""

from tests.fakes.llm import FakeLLM, RecordedRequest, free_port

__all__ = ["FakeLLM", "RecordedRequest", "free_port"]
