"""`/conversations`: stored conversations and their messages (the API document's shapes)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get, post
from litestar.params import Parameter

from dtbot.server.envelope import Envelope, ok
from dtbot.services.conversations import (
    MAX_PAGE,
    MAX_PAGE_NUMBER,
    ConversationIn,
    ConversationOut,
    ConversationPage,
    MessagePage,
)
from dtbot.services.runtime import Runtime

Page = Annotated[int, Parameter(ge=1, le=MAX_PAGE_NUMBER, description="Page number, from 1")]
Limit = Annotated[int, Parameter(ge=1, le=MAX_PAGE, description="Rows per page")]


class ConversationsController(Controller):
    path = "/conversations"
    tags = ["conversations"]  # noqa: RUF012

    @post("/", status_code=200, summary="Create a conversation")
    async def create(self, request: Request, runtime: Runtime, data: ConversationIn) -> Envelope[ConversationOut]:
        return ok(await runtime.conversations.create(data, request.user), "会话创建成功")

    @get("/", summary="List conversations, newest first; search matches titles and message text")
    async def list_conversations(
        self,
        request: Request,
        runtime: Runtime,
        user_id: str | None = Parameter(query="userId", default=None),
        page: Page = 1,
        limit: Limit = 20,
        search: str | None = None,
    ) -> Envelope[ConversationPage]:
        found = await runtime.conversations.list(request.user, user_id=user_id, search=search, page=page, limit=limit)
        return ok(found)

    @get("/{conversation_id:str}", summary="One conversation")
    async def get_conversation(
        self, request: Request, runtime: Runtime, conversation_id: str
    ) -> Envelope[ConversationOut]:
        return ok(await runtime.conversations.get(conversation_id, request.user))

    @get("/{conversation_id:str}/messages", summary="A conversation's messages, oldest first, paged")
    async def messages(
        self, request: Request, runtime: Runtime, conversation_id: str, page: Page = 1, limit: Limit = 100
    ) -> Envelope[MessagePage]:
        return ok(await runtime.conversations.messages(conversation_id, request.user, page=page, limit=limit))

    @delete("/{conversation_id:str}", status_code=200, summary="Delete a conversation and its messages")
    async def remove(self, request: Request, runtime: Runtime, conversation_id: str) -> Envelope[None]:
        await runtime.conversations.delete(conversation_id, request.user)
        return ok(None, "会话删除成功")
