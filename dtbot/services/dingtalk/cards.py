"""AI-card streaming: the answer grows in an interactive card as tokens arrive, then the card is finalised.

DingTalk counts every card call, so updates are throttled. Any card error
stops the card and the answer goes out as an ordinary reply instead.
"""

from __future__ import annotations

import time
import uuid

from dtbot import logs
from dtbot.config.schema import DingTalkConfig
from dtbot.dingtalk.client import DingTalkClient, DingTalkError
from dtbot.dingtalk.messages import IncomingMessage
from dtbot.services.dingtalk.inbox import sender_of

CARD = "card"
_log = logs.get("dingtalk.cards")


class CardStream:
    """One card being written."""

    def __init__(self, client: DingTalkClient, config: DingTalkConfig, track_id: str) -> None:
        self._client = client
        self._config = config
        self.track_id = track_id
        self._shown = ""
        self._last = 0.0
        self.broken = False

    @classmethod
    async def open(cls, client: DingTalkClient, config: DingTalkConfig, message: IncomingMessage) -> CardStream | None:
        """Create and deliver an empty card for the message's chat; None when DingTalk refuses."""
        track_id = uuid.uuid4().hex
        robot = config.robot_code or message.robot_code or config.app_key
        group = message.conversation_id if message.is_group else None
        try:
            await client.create_card(
                robot, config.card_template_id, track_id, key=config.card_key, group=group, user=sender_of(message)
            )
        except DingTalkError as error:
            _log.warning("AI card for %s not created, replying plainly: %s", message.msg_id, error.message)
            return None
        return cls(client, config, track_id)

    async def update(self, text: str) -> None:
        """Show the answer so far, at most once per `card_update_seconds`."""
        now = time.monotonic()
        if self.broken or text == self._shown or now - self._last < self._config.card_update_seconds:
            return
        self._last = now
        await self._write(text, final=False)

    async def finish(self, text: str, *, error: bool = False) -> bool:
        """Show the whole answer and end streaming; False when the card could not show it."""
        if not self.broken:
            await self._write(text, final=True, error=error)
        return not self.broken

    async def _write(self, text: str, *, final: bool, error: bool = False) -> None:
        try:
            await self._client.stream_card(self.track_id, self._config.card_key, text, final=final, error=error)
            self._shown = text
        except DingTalkError as failure:
            _log.warning("AI card %s failed, replying plainly: %s", self.track_id, failure.message)
            self.broken = True
