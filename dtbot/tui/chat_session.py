"""The Chat tab's session: the model, the system prompt and the conversation the answers are saved in.

This is the glue `dtbot chat` has as `dtbot.cli.chat.Session`, repeated here
because faces do not import each other; it belongs in the service layer once
a third face needs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from dtbot.services.chat import Caller
from dtbot.services.chat_types import ChatCompletionRequest, ChatMessage, StreamOptions
from dtbot.services.conversations import ConversationIn, ConversationService

CALLER = Caller(source="tui")
TITLE_LENGTH = 40


@dataclass
class ChatSession:
    model: str
    system: str = ""
    conversation_id: str | None = None
    title: str = ""

    def request(self, text: str) -> ChatCompletionRequest:
        """The streamed request for the answer to `text`; inside a conversation the service adds the history."""
        system = [] if self.conversation_id or not self.system else [ChatMessage(role="system", content=self.system)]
        return ChatCompletionRequest(
            model=self.model,
            messages=[*system, ChatMessage(role="user", content=text)],
            stream=True,
            stream_options=StreamOptions(include_usage=True),
            conversation_id=self.conversation_id,
        )

    async def save(self, conversations: ConversationService, first_text: str) -> str:
        """Start the conversation for this session (titled after its first message), once."""
        if self.conversation_id is None:
            self.title = " ".join(first_text.split())[:TITLE_LENGTH]
            data = ConversationIn(title=self.title, model=self.model, system_prompt=self.system)
            self.conversation_id = (await conversations.create(data, None, source="tui")).conversation_id
        return self.conversation_id
