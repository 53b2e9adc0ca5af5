"""A conversation as a file: JSON (the API's shapes) or Markdown (for people)."""

from __future__ import annotations

from typing import Literal

import msgspec

from dtbot.services.conversations import ConversationOut, ConversationService, MessageOut
from dtbot.services.keys import Principal

Format = Literal["json", "markdown"]
FORMATS: tuple[Format, ...] = ("json", "markdown")
_PAGE = 100


class Export(msgspec.Struct):
    conversation: ConversationOut
    messages: list[MessageOut]


async def all_messages(conversations: ConversationService, conversation_id: str, owner: Principal | None) -> Export:
    """The conversation and every one of its messages."""
    conversation = await conversations.get(conversation_id, owner)
    messages: list[MessageOut] = []
    page = 1
    while True:
        batch = await conversations.messages(conversation_id, owner, page=page, limit=_PAGE)
        messages += batch.messages
        if page >= batch.pagination.total_pages:
            return Export(conversation, messages)
        page += 1


def render(export: Export, form: Format) -> str:
    """The text of the export in the chosen format."""
    if form == "json":
        return msgspec.json.format(msgspec.json.encode(export), indent=2).decode() + "\n"
    c = export.conversation
    lines = [
        f"# {c.title or c.conversation_id}",
        "",
        f"- conversation: `{c.conversation_id}`",
        f"- model: {c.model}",
        f"- user: {c.user_id or '-'}",
        f"- created: {c.created_at.isoformat()}, updated: {c.updated_at.isoformat()}",
        f"- messages: {c.message_count}, tokens: {c.token_usage}",
    ]
    if c.system_prompt:
        lines += ["", "## system", "", c.system_prompt]
    for message in export.messages:
        cut = " (cut off)" if message.cut_off else ""
        lines += ["", f"## {message.role} · {message.timestamp.isoformat()}{cut}", "", message.content]
    return "\n".join(lines) + "\n"
