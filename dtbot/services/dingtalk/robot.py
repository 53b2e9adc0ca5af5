"""The robot: take a DingTalk message in, answer it once.

`accept` runs while DingTalk waits (signature, parsing, dedup, commands and
refusals that need no model) and queues the rest; `answer` runs in a worker:
the conversation for this chat and sender, the model, the reply's format,
and its delivery.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Mapping
from typing import Any

import msgspec

from dtbot import logs
from dtbot.cache import Cache
from dtbot.clock import local_day_start, utcnow
from dtbot.config.schema import DingTalkConfig
from dtbot.dingtalk.client import DingTalkClient
from dtbot.dingtalk.messages import IncomingMessage, parse_callback, text_message
from dtbot.dingtalk.signing import verify_callback, verify_nonce_callback
from dtbot.errors import CacheUnavailable, DtbotError, InvalidSignature
from dtbot.metrics import DELIVERIES
from dtbot.services.chat import Caller, ChatService
from dtbot.services.chat_types import ChatCompletionRequest, ChatMessage
from dtbot.services.conversations import ConversationIn, ConversationOut, ConversationService
from dtbot.services.dingtalk.cards import CARD, CardStream
from dtbot.services.dingtalk.delivery import Delivery
from dtbot.services.dingtalk.inbox import ANSWERED, Inbox, sender_of
from dtbot.services.dingtalk.replies import WordFilter, format_reply
from dtbot.services.models import ModelService
from dtbot.services.settings import SettingsService
from dtbot.services.stats import StatsService
from dtbot.store.models import InboxMessage

QUEUE = "dingtalk"
EMPTY: dict[str, Any] = {"msgtype": "empty"}
DEDUP_SECONDS = 24 * 3600
NONCE_SECONDS = 3600
CALLER = Caller(source="dingtalk")
COMMANDS = {
    "/help": "help",
    "帮助": "help",
    "/reset": "reset",
    "重置": "reset",
    "/model": "model",
    "模型": "model",
    "/usage": "usage",
    "用量": "usage",
}
_MENTION = re.compile(r"^(\s*@\S+)+\s*")
_log = logs.get("dingtalk")


def clean(text: str) -> str:
    """The question without the leading @mentions and spaces DingTalk leaves in group messages."""
    return _MENTION.sub("", text).strip() if text.lstrip().startswith("@") else text.strip()


def command_of(text: str) -> tuple[str, str] | None:
    """(command, argument) when the text is a command: `/model glm-4`, `模型 glm-4`, but not `模型是什么`."""
    word, _, argument = text.partition(" ")
    name = COMMANDS.get(word.lower())
    return (name, argument.strip()) if name else None


class RobotService:
    """Accepts DingTalk messages and answers them."""

    def __init__(
        self,
        config: DingTalkConfig,
        cache: Cache,
        inbox: Inbox,
        chat: ChatService,
        conversations: ConversationService,
        models: ModelService,
        settings: SettingsService,
        stats: StatsService,
        delivery: Delivery,
        client: DingTalkClient,
    ) -> None:
        self.config = config
        self._cache = cache
        self._inbox = inbox
        self._chat = chat
        self._conversations = conversations
        self._models = models
        self._settings = settings
        self._stats = stats
        self._delivery = delivery
        self._client = client
        self._words = WordFilter(config.sensitive_words)

    # Receiving, while DingTalk waits.

    async def verify(self, headers: Mapping[str, str]) -> str | None:
        """DingTalk's signature (app secret), or the API document's nonce variant; 40002 otherwise.

        Returns the cache key that records a used nonce, if any.
        """
        now_ms = int(time.time() * 1000)
        timestamp, signature, nonce = headers.get("timestamp"), headers.get("sign"), headers.get("nonce")
        if nonce is not None and self.config.webhook_secret:
            verify_nonce_callback(timestamp, nonce, signature, self.config.webhook_secret, now_ms)
            used = f"dingtalk:nonce:{nonce}"
            if not await self._cache.set_if_absent(used, "1", NONCE_SECONDS):
                raise InvalidSignature("签名验证失败: nonce already used")
            return used
        if not self.config.app_secret:
            raise InvalidSignature("签名验证失败: DINGTALK_APP_SECRET is not configured")
        verify_callback(timestamp, signature, self.config.app_secret, now_ms)
        return None

    async def receive(self, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """The webhook: verify, parse, then `accept`. A callback that fails may be sent again with its nonce."""
        used = await self.verify(headers)
        try:
            return await self.accept(parse_callback(body))
        except BaseException:
            await self._release(used)
            raise

    async def accept(self, message: IncomingMessage) -> dict[str, Any]:
        """Store the message once and queue it; the reply itself when no model is needed, else `EMPTY`.

        Until the message is stored its msgId is only claimed: when storing fails (the database is
        down) the claim is released, so that DingTalk's retry of the unacknowledged callback is
        not taken for a duplicate.
        """
        if message.session_webhook:
            self._client.check_url(message.session_webhook, "sessionWebhook")
        claim: str | None = f"dingtalk:msg:{message.msg_id}"
        try:
            if not await self._cache.set_if_absent(claim, "1", DEDUP_SECONDS):
                return EMPTY
        except CacheUnavailable:
            claim = None  # the inbox's unique msgId still keeps it to one
        try:
            return await self._store(message)
        except BaseException:
            await self._release(claim)
            raise

    async def _release(self, key: str | None) -> None:
        if key is not None:
            with contextlib.suppress(CacheUnavailable):
                await self._cache.delete(key)

    async def _store(self, message: IncomingMessage) -> dict[str, Any]:
        text = clean(message.text() or "")
        quick = await self.quick_reply(message, text)
        if quick is not None:
            await self._inbox.add(message, text, status=ANSWERED, reply=quick, via="callback")
            DELIVERIES.labels("callback", "ok").inc()
            return text_message(quick, [])
        inbox_id = await self._inbox.add(message, text)
        if inbox_id is not None:
            try:
                await self._cache.enqueue(QUEUE, inbox_id)
            except CacheUnavailable:
                _log.warning("queue unreachable; %s waits in the inbox for the sweeper", inbox_id)
        return EMPTY

    async def quick_reply(self, message: IncomingMessage, text: str) -> str | None:
        """Commands and refusals: answers that need no model."""
        texts = self.config.texts
        sender = sender_of(message)
        if self.config.allow_users and sender not in self.config.allow_users:
            return texts.not_allowed
        if message.is_group and self.config.allow_groups and message.conversation_id not in self.config.allow_groups:
            return texts.not_allowed
        if message.text() is None:
            return texts.unsupported
        if not text:
            return texts.empty
        command = command_of(text)
        if command is not None:
            return await self.command(message, *command)
        if self._words.hits(text):
            return texts.blocked
        if self.config.sender_rate_per_minute:
            try:
                decision = await self._cache.hit(f"dingtalk:sender:{sender}", self.config.sender_rate_per_minute, 60)
                if not decision.allowed:
                    return texts.rate_limited
            except CacheUnavailable:
                pass
        if self.config.sender_daily_tokens and await self.tokens_today(sender) >= self.config.sender_daily_tokens:
            return texts.quota_exceeded
        return None

    async def tokens_today(self, sender: str) -> int:
        """Tokens the sender used today (the configured time zone's day)."""
        return await self._stats.user_tokens_since(sender, local_day_start(utcnow(), self._stats.zone))

    # Commands.

    def conversation_key(self, message: IncomingMessage) -> str:
        """Single chats: one conversation per sender; groups: per group and sender, or one per group."""
        if message.is_group and self.config.group_context == "group":
            return f"dingtalk:{message.conversation_id}"
        return f"dingtalk:{message.conversation_id}:{sender_of(message)}"

    async def conversation(self, message: IncomingMessage, *, fresh: bool = False) -> ConversationOut:
        """This chat's conversation, made when there is none (or when `fresh`, for /reset)."""
        key = self.conversation_key(message)
        found = None if fresh else await self._conversations.latest_for(key)
        if found is not None:
            return found
        title = message.conversation_title or message.sender_nick or "钉钉会话"
        data = ConversationIn(
            user_id=sender_of(message),
            title=title,
            model=self.config.model or self._settings.current.default_model,
            system_prompt=self.config.system_prompt,
        )
        return await self._conversations.create(data, None, source="dingtalk", external_key=key)

    async def command(self, message: IncomingMessage, name: str, argument: str) -> str:
        """Run /help, /reset, /model [ID] or /usage and return the reply."""
        texts = self.config.texts
        if name == "help":
            return texts.help
        if name == "reset":
            await self.conversation(message, fresh=True)
            return texts.reset
        if name == "usage":
            used = await self.tokens_today(sender_of(message))
            limit = self.config.sender_daily_tokens
            conversation = await self.conversation(message)
            quota = f"（上限 {limit:,}）" if limit else ""
            session = f"当前会话 {conversation.message_count} 条消息，模型 {conversation.model}"
            return f"今日已用 {used:,} tokens{quota}；{session}。"
        conversation = await self.conversation(message)
        available = [m.id for m in self._models.list() if m.available]
        if not argument:
            return f"当前模型：{conversation.model}\n可用模型：{', '.join(available) or '无'}\n切换：/model 模型名"
        if argument not in available:
            return f"模型 {argument} 不可用。可用模型：{', '.join(available) or '无'}"
        await self._conversations.update(conversation.conversation_id, None, model=argument)
        return f"已切换到模型 {argument}。"

    # Answering, in a worker.

    async def compose(self, row: InboxMessage) -> tuple[str, str, str | None]:
        """Ask the model inside this chat's conversation: (reply, conversation id, `CARD` when the reply
        was already shown in an AI card, else None and it still has to be delivered)."""
        message = msgspec.convert(row.payload, IncomingMessage)
        conversation = await self.conversation(message)
        request = ChatCompletionRequest(
            messages=[ChatMessage(role="user", content=row.text)],
            conversation_id=conversation.conversation_id,
            user=sender_of(message),
        )
        card = await CardStream.open(self._client, self.config, message) if self.config.card_template_id else None
        parts: list[str] = []
        failed = False
        try:
            chunks = await self._chat.stream(request, CALLER)
            async with contextlib.aclosing(chunks):
                async for chunk in chunks:
                    for choice in chunk.choices:
                        if choice.delta.content:
                            parts.append(choice.delta.content)
                            if card is not None:
                                await card.update(self._words.mask("".join(parts)))
            reply = self._words.mask("".join(parts))
        except DtbotError as error:
            _log.warning("model call for %s failed: %s", row.msg_id, error.message)
            reply, failed = self.config.texts.failed, True
        shown = card is not None and await card.finish(reply, error=failed)
        if shown:
            DELIVERIES.labels(CARD, "ok").inc()
        return reply, conversation.conversation_id, CARD if shown else None

    async def deliver(self, row: InboxMessage, reply: str) -> str:
        """Send the reply, formatted for DingTalk; returns the path that delivered it."""
        message = msgspec.convert(row.payload, IncomingMessage)
        mention = sender_of(message) if message.is_group else None
        bodies = format_reply(reply, mention=mention, text_limit=self.config.text_reply_limit)
        return await self._delivery.deliver(message, bodies)
