"""What the robot sends: validating a message body, building one, and its OpenAPI form.

A webhook body is `{"msgtype": T, T: {...}, "at": {...}}` with T one of text,
markdown, link, actionCard and feedCard. The OpenAPI takes the same content as
a template name (`msgKey`) and a JSON string (`msgParam`), without `at`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta, Struct, field

from dtbot.dingtalk._problems import from_msgspec, invalid

BODY_LIMIT = 20_000  # bytes of the JSON body DingTalk accepts from a robot
LINK_SCHEMES = ("https", "http", "dingtalk")  # dingtalk:// opens a page inside the DingTalk client
OPENAPI_MAX_BUTTONS = 5

NonEmpty = Annotated[str, Meta(min_length=1)]
S = TypeVar("S", bound=Struct)


class Text(Struct):
    content: NonEmpty


class Markdown(Struct):
    title: NonEmpty
    text: NonEmpty


class Link(Struct, omit_defaults=True):
    title: NonEmpty
    text: NonEmpty
    message_url: NonEmpty = field(name="messageUrl")
    pic_url: str = field(default="", name="picUrl")


class Button(Struct):
    title: NonEmpty
    action_url: NonEmpty = field(name="actionURL")


class ActionCard(Struct, omit_defaults=True):
    title: NonEmpty
    text: NonEmpty
    single_title: str = field(default="", name="singleTitle")
    single_url: str = field(default="", name="singleURL")
    btns: list[Button] = field(default_factory=list)
    btn_orientation: Literal["0", "1", 0, 1] = field(default="0", name="btnOrientation")


class FeedLink(Struct):
    title: NonEmpty
    message_url: NonEmpty = field(name="messageURL")
    pic_url: NonEmpty = field(name="picURL")


class FeedCard(Struct):
    links: Annotated[list[FeedLink], Meta(min_length=1)]


class At(Struct, omit_defaults=True):
    at_user_ids: list[str] = field(default_factory=list, name="atUserIds")
    at_mobiles: list[str] = field(default_factory=list, name="atMobiles")
    is_at_all: bool = field(default=False, name="isAtAll")


CONTENT: dict[str, type[Struct]] = {
    "text": Text,
    "markdown": Markdown,
    "link": Link,
    "actionCard": ActionCard,
    "feedCard": FeedCard,
}


def validate_outgoing(payload: dict[str, Any]) -> dict[str, Any]:
    """The DingTalk body (msgtype, its object, at) in `payload`; `InvalidParameter` naming the bad field.

    Other keys of the payload (the target, a secret …) are left out of the body.
    """
    if not isinstance(payload, dict):
        raise invalid("body", "expected an object")
    msgtype = payload.get("msgtype")
    if msgtype is None:
        raise invalid("msgtype", "required")
    if not isinstance(msgtype, str) or msgtype not in CONTENT:
        raise invalid("msgtype", f"must be one of {', '.join(CONTENT)}")
    if payload.get(msgtype) is None:
        raise invalid(msgtype, "required")
    content = _convert(payload[msgtype], CONTENT[msgtype], msgtype)
    _check_content(msgtype, content)
    body: dict[str, Any] = {"msgtype": msgtype, msgtype: msgspec.to_builtins(content)}
    if isinstance(content, ActionCard):
        body[msgtype]["btnOrientation"] = str(content.btn_orientation)  # DingTalk's own form is a string
    if payload.get("at") is not None:
        body["at"] = msgspec.to_builtins(_convert(payload["at"], At, "at"))
    size = len(msgspec.json.encode(body))
    if size > BODY_LIMIT:
        raise invalid(msgtype, f"message is {size} bytes, DingTalk takes at most {BODY_LIMIT}")
    return body


def text_message(content: str, at_user_ids: Sequence[str] = ()) -> dict[str, Any]:
    """A text message body, @-mentioning the given users."""
    return _with_at({"msgtype": "text", "text": {"content": content}}, at_user_ids)


def markdown_message(title: str, text: str, at_user_ids: Sequence[str] = ()) -> dict[str, Any]:
    """A Markdown message body; DingTalk shows `title` in notifications. The text should hold `@userId` too."""
    return _with_at({"msgtype": "markdown", "markdown": {"title": title, "text": text}}, at_user_ids)


def openapi_param(message: dict[str, Any]) -> tuple[str, str]:
    """(`msgKey`, `msgParam` as a JSON string) for the OpenAPI sends; `at` has no equivalent there."""
    msgtype = message.get("msgtype")
    content = message.get(msgtype) if isinstance(msgtype, str) else None
    if not isinstance(content, dict):
        raise invalid("msgtype", "a text, markdown, link or actionCard message is needed")
    if msgtype == "text":
        key, param = "sampleText", {"content": content.get("content", "")}
    elif msgtype == "markdown":
        key, param = "sampleMarkdown", {"title": content.get("title", ""), "text": content.get("text", "")}
    elif msgtype == "link":
        key, param = "sampleLink", {k: content[k] for k in ("title", "text", "messageUrl", "picUrl") if k in content}
    elif msgtype == "actionCard":
        key, param = _action_card_param(content)
    else:
        raise invalid("msgtype", f"{msgtype} cannot be sent through the OpenAPI, only to a webhook")
    return key, msgspec.json.encode(param).decode()


def _convert(value: Any, kind: type[S], name: str) -> S:
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as error:
        raise from_msgspec(error, prefix=name, root=name) from None


def _with_at(body: dict[str, Any], at_user_ids: Sequence[str]) -> dict[str, Any]:
    if at_user_ids:
        body["at"] = {"atUserIds": list(at_user_ids), "isAtAll": False}
    return body


def _check_content(msgtype: str, content: Struct) -> None:
    """What the types alone cannot say: the links' schemes, and an actionCard's one way of jumping."""
    if isinstance(content, Link):
        _check_link(f"{msgtype}.messageUrl", content.message_url)
        if content.pic_url:
            _check_link(f"{msgtype}.picUrl", content.pic_url)
    elif isinstance(content, ActionCard):
        if content.btns and (content.single_title or content.single_url):
            raise invalid(f"{msgtype}.btns", "give either singleTitle and singleURL or btns, not both")
        if not content.btns:
            if not content.single_title:
                raise invalid(f"{msgtype}.singleTitle", "required (or btns)")
            if not content.single_url:
                raise invalid(f"{msgtype}.singleURL", "required (or btns)")
            _check_link(f"{msgtype}.singleURL", content.single_url)
        for i, button in enumerate(content.btns):
            _check_link(f"{msgtype}.btns[{i}].actionURL", button.action_url)
    elif isinstance(content, FeedCard):
        for i, link in enumerate(content.links):
            _check_link(f"{msgtype}.links[{i}].messageURL", link.message_url)
            _check_link(f"{msgtype}.links[{i}].picURL", link.pic_url)


def _check_link(name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in LINK_SCHEMES or not parts.netloc:
        raise invalid(name, f"expected an absolute {'/'.join(LINK_SCHEMES)} URL")


def _action_card_param(card: dict[str, Any]) -> tuple[str, dict[str, str]]:
    title, text = card.get("title", ""), card.get("text", "")
    buttons = card.get("btns") or []
    if not buttons:
        return "sampleActionCard", {
            "title": title,
            "text": text,
            "singleTitle": card.get("singleTitle", ""),
            "singleURL": card.get("singleURL", ""),
        }
    if len(buttons) == 1:
        only = buttons[0]
        return "sampleActionCard", {
            "title": title,
            "text": text,
            "singleTitle": only["title"],
            "singleURL": only["actionURL"],
        }
    if len(buttons) > OPENAPI_MAX_BUTTONS:
        raise invalid("actionCard.btns", f"the OpenAPI takes at most {OPENAPI_MAX_BUTTONS} buttons")
    param = {"title": title, "text": text}
    if len(buttons) == 2 and str(card.get("btnOrientation", "0")) == "1":
        # Two buttons side by side is a template of its own, with its own names.
        for n, button in enumerate(buttons, start=1):
            param[f"buttonTitle{n}"], param[f"buttonUrl{n}"] = button["title"], button["actionURL"]
        return "sampleActionCard6", param
    for n, button in enumerate(buttons, start=1):
        param[f"actionTitle{n}"], param[f"actionURL{n}"] = button["title"], button["actionURL"]
    return f"sampleActionCard{len(buttons)}", param
