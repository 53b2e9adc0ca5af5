"""What DingTalk sends the robot: the callback body (also the `data` of a Stream frame)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct, field

from dtbot.dingtalk._problems import from_msgspec, invalid
from dtbot.errors import UNREADABLE, unreadable

NonEmpty = Annotated[str, Meta(min_length=1)]
Number = int | float | str  # fields we only pass on, whose type DingTalk is not strict about

SINGLE, GROUP = "1", "2"


class AtUser(Struct, rename="camel", omit_defaults=True):
    """Someone @-mentioned in the message (the robot too, in a group)."""

    dingtalk_id: str | None = None
    staff_id: str | None = None


class TextBody(Struct, omit_defaults=True):
    """`text` of a text message."""

    content: str = ""


class RichTextPart(Struct, rename="camel", omit_defaults=True):
    """One part of a richText message: some text, or a picture."""

    text: str | None = None
    type: str | None = None
    download_code: str | None = None
    picture_download_code: str | None = None


class MessageContent(Struct, rename="camel", omit_defaults=True):
    """`content` of the other message types: richText, audio, picture, video, file."""

    rich_text: list[RichTextPart] | None = None
    recognition: str | None = None  # audio: DingTalk's speech-to-text
    duration: Number | None = None
    download_code: str | None = None
    picture_download_code: str | None = None
    video_type: str | None = None
    file_name: str | None = None
    file_id: str | None = None
    space_id: str | None = None


class IncomingMessage(Struct, rename="camel", omit_defaults=True):
    """A robot callback: the API document's fields plus DingTalk's others; unknown fields are ignored.

    `msgspec.to_builtins` gives it back in DingTalk's camelCase form, which
    `msgspec.convert` reads again.
    """

    msg_id: NonEmpty
    msgtype: NonEmpty
    conversation_id: NonEmpty
    conversation_type: Literal["1", "2"]
    text_body: TextBody | None = field(default=None, name="text")
    content: MessageContent | str | None = None
    at_users: list[AtUser] = field(default_factory=list)
    chatbot_user_id: str | None = None
    chatbot_corp_id: str | None = None
    robot_code: str | None = None
    conversation_title: str | None = None
    sender_id: str | None = None
    sender_staff_id: str | None = None
    sender_nick: str | None = None
    sender_corp_id: str | None = None
    is_admin: bool | None = None
    is_from_admin: bool | None = None
    is_in_at_list: bool | None = None
    session_webhook: str | None = None
    session_webhook_expired_time: int | None = None  # ms since the epoch
    create_at: int | None = None  # ms since the epoch
    create_time: int | None = None

    @property
    def is_group(self) -> bool:
        """True for a group chat, false for a single chat."""
        return self.conversation_type == GROUP

    @property
    def kind(self) -> str:
        """The message type: text, richText, audio, picture, video, file …"""
        return self.msgtype

    def text(self) -> str | None:
        """What the sender wrote: text, richText's text parts, audio's recognition; None for anything else."""
        if self.msgtype == "text":
            return self.text_body.content if self.text_body is not None else None
        if not isinstance(self.content, MessageContent):
            return None
        if self.msgtype == "richText":
            parts = [part.text for part in self.content.rich_text or [] if part.text]
            return "\n".join(parts) if parts else None
        if self.msgtype == "audio":
            return self.content.recognition or None
        return None


def parse_callback(body: bytes | str) -> IncomingMessage:
    """The callback body as a message; `InvalidParameter` naming the field when it is malformed."""
    try:
        # Not strict: a number sent as a string ("createAt": "1625…") is still the number.
        message = msgspec.json.decode(body, type=IncomingMessage, strict=False)
    except msgspec.DecodeError as error:
        raise from_msgspec(error) from None
    except UNREADABLE as error:
        raise unreadable(error) from None
    if message.msgtype == "text" and message.text_body is None:
        raise invalid("text", "required for msgtype text")
    if not (message.sender_staff_id or message.sender_id):
        raise invalid("senderStaffId", "required (or senderId)")
    return message
