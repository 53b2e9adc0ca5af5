"""An interactive chat, as `dtbot chat` and the dashboard's Chat tab hold it.

The model, the system prompt and, once the first message is sent, the stored
conversation the answers go into (titled after that message). Changing the
model or the system prompt changes the stored conversation too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dtbot.services.chat import Caller
from dtbot.services.chat_types import ChatCompletionChunk, ChatCompletionRequest, ChatMessage, StreamOptions
from dtbot.services.conversations import ConversationIn

if TYPE_CHECKING:
    from dtbot.services.runtime import Runtime

TITLE_LENGTH = 40


@dataclass
class ChatSession:
    """One person's chat from a face (`source`: "cli", "tui"), with no API key."""

    model: str
    source: str
    system: str = ""
    conversation_id: str | None = None
    title: str = ""

    @property
    def caller(self) -> Caller:
        """Who asks, for the usage records."""
        return Caller(source=self.source)

    def request(self, text: str, *, stream: bool = True) -> ChatCompletionRequest:
        """The request for the answer to `text`; inside a conversation the service adds the history."""
        system = [] if self.conversation_id or not self.system else [ChatMessage(role="system", content=self.system)]
        return ChatCompletionRequest(
            model=self.model,
            messages=[*system, ChatMessage(role="user", content=text)],
            stream=stream,
            stream_options=StreamOptions(include_usage=True) if stream else None,
            conversation_id=self.conversation_id,
        )

    async def save(self, runtime: Runtime, first_text: str) -> str:
        """Start the stored conversation (once), after checking the model can answer: no empty conversations."""
        if self.conversation_id is None:
            runtime.models.resolve(self.model)
            self.title = " ".join(first_text.split())[:TITLE_LENGTH]
            data = ConversationIn(title=self.title, model=self.model, system_prompt=self.system)
            self.conversation_id = (await runtime.conversations.create(data, None, source=self.source)).conversation_id
        return self.conversation_id

    async def stream(self, runtime: Runtime, text: str) -> AsyncIterator[ChatCompletionChunk]:
        """The streamed answer to `text`, saved in the conversation as it comes."""
        return await runtime.chat.stream(self.request(text), self.caller)

    async def use_model(self, runtime: Runtime, model: str) -> None:
        """Switch to `model` (an error, and no change, when it is unknown or has no key)."""
        runtime.models.resolve(model)
        if self.conversation_id:
            await runtime.conversations.update(self.conversation_id, None, model=model)
        self.model = model

    async def use_system(self, runtime: Runtime, text: str) -> None:
        """Set the system prompt (empty clears it)."""
        if self.conversation_id:
            await runtime.conversations.update(self.conversation_id, None, system_prompt=text)
        self.system = text

    def restart(self) -> None:
        """Forget the conversation: the next message starts a new one with the same model and prompt."""
        self.conversation_id, self.title = None, ""
