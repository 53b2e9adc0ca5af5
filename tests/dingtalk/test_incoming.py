"""Parsing robot callbacks: every message type DingTalk sends, and malformed bodies."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from dtbot.dingtalk.messages import IncomingMessage, parse_callback
from dtbot.errors import InvalidParameter
from tests.fakes.dingtalk import callback_payload

WEBHOOK = "https://oapi.dingtalk.com/robot/sendBySession?session=abc"

# The API document's example, as given.
DOCUMENT_EXAMPLE = {
    "conversationType": "2",
    "atUsers": [{"dingtalkId": "user123", "staffId": "staff456"}],
    "chatbotUserId": "bot789",
    "msgId": "msg001",
    "text": {"content": "你好，请帮我分析一下这个问题"},
    "msgtype": "text",
    "createAt": 1625097417000,
    "conversationId": "chat001",
    "isAdmin": False,
    "chatbotCorpId": "corp123",
    "isInAtList": True,
    "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession",
    "createTime": 1625097417000,
    "senderNick": "张三",
    "isFromAdmin": False,
    "sessionWebhookExpiredTime": 1625183817000,
    "senderCorpId": "corp123",
    "senderStaffId": "staff456",
}


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


def test_the_documents_example_parses_with_every_field() -> None:
    message = parse_callback(encode(DOCUMENT_EXAMPLE))
    assert message.msg_id == "msg001" and message.kind == "text" and message.is_group
    assert message.text() == "你好，请帮我分析一下这个问题"
    assert message.at_users[0].dingtalk_id == "user123" and message.at_users[0].staff_id == "staff456"
    assert (message.chatbot_user_id, message.chatbot_corp_id, message.conversation_id) == (
        "bot789",
        "corp123",
        "chat001",
    )
    assert (message.sender_nick, message.sender_staff_id, message.sender_corp_id) == ("张三", "staff456", "corp123")
    assert message.is_admin is False and message.is_from_admin is False and message.is_in_at_list is True
    assert (message.create_at, message.create_time) == (1625097417000, 1625097417000)
    assert message.session_webhook_expired_time == 1625183817000
    assert message.session_webhook == "https://oapi.dingtalk.com/robot/sendBySession"


def test_a_single_chat_text_message() -> None:
    message = parse_callback(encode(callback_payload("今天天气如何", session_webhook=WEBHOOK, sender="u1")))
    assert not message.is_group and message.conversation_type == "1"
    assert message.text() == "今天天气如何"
    assert message.sender_staff_id == "u1" and message.robot_code == "dingfakebot"
    assert message.session_webhook == WEBHOOK


def test_a_group_message_keeps_the_leading_space_dingtalk_leaves() -> None:
    message = parse_callback(encode(callback_payload("帮我总结", session_webhook=WEBHOOK, group=True)))
    assert message.is_group and message.is_in_at_list
    assert message.text() == " 帮我总结"
    assert message.conversation_title == "测试群" and message.at_users


def test_rich_text_joins_its_text_parts_and_skips_pictures() -> None:
    content = {"richText": [{"text": "看这张图"}, {"type": "picture", "downloadCode": "dc1"}, {"text": "是什么？"}]}
    payload = callback_payload("", session_webhook=WEBHOOK, msgtype="richText", content=content)
    message = parse_callback(encode(payload))
    assert message.kind == "richText" and message.text() == "看这张图\n是什么？"


def test_rich_text_with_only_pictures_has_no_text() -> None:
    content = {"richText": [{"type": "picture", "downloadCode": "dc1"}]}
    message = parse_callback(encode(callback_payload("", session_webhook=WEBHOOK, msgtype="richText", content=content)))
    assert message.text() is None


def test_audio_gives_dingtalks_recognition() -> None:
    content = {"duration": 4000, "downloadCode": "dc2", "recognition": "明天开会吗"}
    message = parse_callback(encode(callback_payload("", session_webhook=WEBHOOK, msgtype="audio", content=content)))
    assert message.kind == "audio" and message.text() == "明天开会吗"


@pytest.mark.parametrize(
    ("msgtype", "content"),
    [
        ("picture", {"downloadCode": "dc3", "pictureDownloadCode": "pdc3"}),
        ("file", {"downloadCode": "dc4", "fileName": "报告.pdf", "spaceId": "1", "fileId": "2"}),
        ("video", {"duration": "15", "downloadCode": "dc5", "videoType": "mp4"}),
        ("interactiveCard", '{"cardTemplateId": "x"}'),
        ("somethingNew", {"whatever": [1, 2, 3]}),
    ],
)
def test_other_types_parse_but_have_no_text(msgtype: str, content: Any) -> None:
    message = parse_callback(encode(callback_payload("", session_webhook=WEBHOOK, msgtype=msgtype, content=content)))
    assert message.kind == msgtype and message.text() is None


def test_file_details_are_kept() -> None:
    content = {"downloadCode": "dc4", "fileName": "报告.pdf"}
    message = parse_callback(encode(callback_payload("", session_webhook=WEBHOOK, msgtype="file", content=content)))
    assert message.content.file_name == "报告.pdf" and message.content.download_code == "dc4"


def test_numbers_sent_as_strings_and_unknown_fields_are_accepted() -> None:
    payload = callback_payload("hi", session_webhook=WEBHOOK) | {"newField": {"x": 1}}
    payload["createAt"], payload["sessionWebhookExpiredTime"] = "1625097417000", "1625183817000"
    message = parse_callback(encode(payload))
    assert message.create_at == 1625097417000 and message.session_webhook_expired_time == 1625183817000


def test_a_parsed_message_survives_a_round_trip_through_builtins() -> None:
    """The inbox stores `msgspec.to_builtins(message)` and reads it back with `msgspec.convert`."""
    content = {"richText": [{"text": "a"}, {"type": "picture", "downloadCode": "d"}]}
    for payload in (
        callback_payload("x", session_webhook=WEBHOOK, group=True),
        callback_payload("", session_webhook=WEBHOOK, msgtype="richText", content=content),
    ):
        message = parse_callback(encode(payload))
        stored = msgspec.to_builtins(message)
        assert stored["msgId"] == payload["msgId"] and "msg_id" not in stored  # DingTalk's own names
        assert msgspec.convert(stored, IncomingMessage) == message


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"msgId": None}, "msgId", "required"),
        ({"msgId": ""}, "msgId", "must not be empty"),
        ({"msgId": 12}, "msgId", "expected str, got int"),
        ({"msgtype": None}, "msgtype", "required"),
        ({"conversationId": None}, "conversationId", "required"),
        ({"conversationType": "3"}, "conversationType", "invalid enum value '3'"),
        ({"conversationType": None}, "conversationType", "required"),
        ({"text": None}, "text", "required for msgtype text"),
        ({"text": {"content": 5}}, "text.content", "expected str, got int"),
        ({"senderStaffId": None, "senderId": None}, "senderStaffId", "required (or senderId)"),
        ({"atUsers": "everyone"}, "atUsers", "expected array, got str"),
        ({"sessionWebhookExpiredTime": "soon"}, "sessionWebhookExpiredTime", "expected int"),
    ],
)
def test_malformed_fields_are_named(change: dict[str, Any], field: str, problem: str) -> None:
    payload = callback_payload("hi", session_webhook=WEBHOOK)
    for key, value in change.items():
        if value is None:
            payload.pop(key)
        else:
            payload[key] = value
    with pytest.raises(InvalidParameter) as caught:
        parse_callback(encode(payload))
    assert caught.value.message.startswith(f"参数格式错误: {field}: {problem}")
    assert caught.value.code == 40003


@pytest.mark.parametrize("body", [b"", b"{", b"not json", b"[]", b"null", "你好".encode(), b"\xff\xfe"])
def test_bodies_that_are_not_a_json_object_are_refused(body: bytes) -> None:
    with pytest.raises(InvalidParameter, match="参数格式错误: body: "):
        parse_callback(body)
