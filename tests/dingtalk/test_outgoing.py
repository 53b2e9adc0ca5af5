"""Outgoing messages: validating the five types, the builders, and their OpenAPI form."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dtbot.dingtalk.client import DingTalkClient
from dtbot.dingtalk.messages import markdown_message, openapi_param, text_message, validate_outgoing
from dtbot.errors import InvalidParameter
from tests.fakes.dingtalk import FakeDingTalk

BUTTONS = [{"title": "同意", "actionURL": "https://example.com/yes"}, {"title": "拒绝", "actionURL": "dingtalk://x/no"}]
VALID: dict[str, dict[str, Any]] = {
    "text": {"content": "这是一条主动推送的消息"},
    "markdown": {"title": "周报", "text": "### 本周\n- 完成 **A**"},
    "link": {"title": "发布", "text": "新版本", "messageUrl": "https://example.com/r", "picUrl": "https://e.com/p.png"},
    "actionCard": {"title": "审批", "text": "请处理", "singleTitle": "查看", "singleURL": "https://example.com/a"},
    "feedCard": {"links": [{"title": "新闻", "messageURL": "https://e.com/n", "picURL": "https://e.com/n.png"}]},
}


def request(msgtype: str, content: Any) -> dict[str, Any]:
    return {"sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession", "msgtype": msgtype, msgtype: content}


def refused(payload: Any) -> str:
    with pytest.raises(InvalidParameter) as caught:
        validate_outgoing(payload)
    assert caught.value.code == 40003
    return caught.value.message


@pytest.mark.parametrize("msgtype", list(VALID))
def test_each_type_gives_the_dingtalk_body_without_the_target(msgtype: str) -> None:
    body = validate_outgoing(request(msgtype, VALID[msgtype]))
    assert body["msgtype"] == msgtype and "sessionWebhook" not in body
    for key, value in VALID[msgtype].items():
        assert body[msgtype][key] == value


def test_the_documents_example_keeps_its_at() -> None:
    payload = request("text", {"content": "hi"}) | {"at": {"atUserIds": ["user123"], "isAtAll": False}}
    assert validate_outgoing(payload) == {
        "msgtype": "text",
        "text": {"content": "hi"},
        "at": {"atUserIds": ["user123"]},
    }


def test_unknown_keys_inside_a_message_are_dropped() -> None:
    body = validate_outgoing(request("markdown", {"title": "t", "text": "x", "secret": "SECxyz"}))
    assert body["markdown"] == {"title": "t", "text": "x"}


def test_an_action_card_with_buttons_keeps_their_orientation_as_dingtalk_spells_it() -> None:
    body = validate_outgoing(request("actionCard", {"title": "t", "text": "x", "btns": BUTTONS, "btnOrientation": 1}))
    assert body["actionCard"]["btns"] == BUTTONS and body["actionCard"]["btnOrientation"] == "1"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({}, "msgtype: required"),
        ({"msgtype": "image"}, "msgtype: must be one of text, markdown, link, actionCard, feedCard"),
        ({"msgtype": ["text"]}, "msgtype: must be one of"),
        ({"msgtype": "text"}, "text: required"),
        (request("text", "hi"), "text: expected object, got str"),
        (request("text", {}), "text.content: required"),
        (request("text", {"content": ""}), "text.content: must not be empty"),
        (request("markdown", {"text": "x"}), "markdown.title: required"),
        (request("markdown", {"title": "t"}), "markdown.text: required"),
        (request("markdown", {"title": 1, "text": "x"}), "markdown.title: expected str, got int"),
        (request("link", {"title": "t", "text": "x"}), "link.messageUrl: required"),
        (
            request("link", {"title": "t", "text": "x", "messageUrl": "javascript:alert(1)"}),
            "link.messageUrl: expected",
        ),
        (request("link", {"title": "t", "text": "x", "messageUrl": "https://a", "picUrl": "/p.png"}), "link.picUrl"),
        (request("actionCard", {"title": "t", "text": "x"}), "actionCard.singleTitle: required (or btns)"),
        (request("actionCard", {"title": "t", "text": "x", "singleTitle": "go"}), "actionCard.singleURL: required"),
        (request("actionCard", {"text": "x", "btns": BUTTONS}), "actionCard.title: required"),
        (
            request("actionCard", {"title": "t", "text": "x", "btns": [{"title": "a"}]}),
            "actionCard.btns[0].actionURL: required",
        ),
        (
            request(
                "actionCard", {"title": "t", "text": "x", "btns": BUTTONS, "singleTitle": "s", "singleURL": "https://a"}
            ),
            "actionCard.btns: give either",
        ),
        (
            request("actionCard", {"title": "t", "text": "x", "btns": BUTTONS, "btnOrientation": "2"}),
            "actionCard.btnOrientation: invalid enum value",
        ),
        (request("feedCard", {"links": []}), "feedCard.links: must not be empty"),
        (request("feedCard", {}), "feedCard.links: required"),
        (
            request("feedCard", {"links": [{"title": "t", "messageURL": "https://a"}]}),
            "feedCard.links[0].picURL: required",
        ),
        (request("text", {"content": "hi"}) | {"at": {"atUserIds": "u1"}}, "at.atUserIds: expected array, got str"),
        (request("text", {"content": "hi"}) | {"at": {"isAtAll": "yes"}}, "at.isAtAll: expected bool, got str"),
        (request("text", {"content": "hi"}) | {"at": []}, "at: expected object, got array"),
        ("not an object", "body: expected an object"),
    ],
)
def test_errors_name_the_field(payload: Any, expected: str) -> None:
    assert refused(payload).startswith(f"参数格式错误: {expected}")


def test_a_body_over_20000_bytes_is_refused() -> None:
    fits = validate_outgoing(request("text", {"content": "字" * 6600}))
    assert len(json.dumps(fits, ensure_ascii=False).encode()) <= 20_000
    assert "20000" in refused(request("text", {"content": "字" * 6700}))


def test_builders_make_webhook_bodies_with_mentions() -> None:
    assert text_message("你好") == {"msgtype": "text", "text": {"content": "你好"}}
    assert text_message("你好", ["u1"])["at"] == {"atUserIds": ["u1"], "isAtAll": False}
    body = markdown_message("标题", "**粗体** @u1", ["u1"])
    assert body == {
        "msgtype": "markdown",
        "markdown": {"title": "标题", "text": "**粗体** @u1"},
        "at": {"atUserIds": ["u1"], "isAtAll": False},
    }
    assert validate_outgoing(body) == body | {"at": {"atUserIds": ["u1"]}}


@pytest.mark.parametrize(
    ("message", "key", "param"),
    [
        (text_message("你好", ["u1"]), "sampleText", {"content": "你好"}),
        (markdown_message("标题", "正文"), "sampleMarkdown", {"title": "标题", "text": "正文"}),
        (
            {"msgtype": "link", "link": VALID["link"]},
            "sampleLink",
            {"title": "发布", "text": "新版本", "messageUrl": "https://example.com/r", "picUrl": "https://e.com/p.png"},
        ),
        (
            {"msgtype": "actionCard", "actionCard": VALID["actionCard"]},
            "sampleActionCard",
            {"title": "审批", "text": "请处理", "singleTitle": "查看", "singleURL": "https://example.com/a"},
        ),
        (
            {"msgtype": "actionCard", "actionCard": {"title": "t", "text": "x", "btns": BUTTONS}},
            "sampleActionCard2",
            {
                "title": "t",
                "text": "x",
                "actionTitle1": "同意",
                "actionURL1": "https://example.com/yes",
                "actionTitle2": "拒绝",
                "actionURL2": "dingtalk://x/no",
            },
        ),
        (
            {
                "msgtype": "actionCard",
                "actionCard": {"title": "t", "text": "x", "btns": BUTTONS, "btnOrientation": "1"},
            },
            "sampleActionCard6",
            {
                "title": "t",
                "text": "x",
                "buttonTitle1": "同意",
                "buttonUrl1": "https://example.com/yes",
                "buttonTitle2": "拒绝",
                "buttonUrl2": "dingtalk://x/no",
            },
        ),
    ],
)
def test_openapi_param_gives_the_template_and_its_json(
    message: dict[str, Any], key: str, param: dict[str, str]
) -> None:
    got_key, got_param = openapi_param(message)
    assert got_key == key
    assert isinstance(got_param, str) and json.loads(got_param) == param


def test_openapi_param_refuses_what_the_openapi_cannot_send() -> None:
    with pytest.raises(InvalidParameter, match="feedCard cannot be sent through the OpenAPI"):
        openapi_param({"msgtype": "feedCard", "feedCard": VALID["feedCard"]})
    buttons = [{"title": f"b{i}", "actionURL": f"https://e.com/{i}"} for i in range(6)]
    with pytest.raises(InvalidParameter, match="at most 5 buttons"):
        openapi_param({"msgtype": "actionCard", "actionCard": {"title": "t", "text": "x", "btns": buttons}})
    with pytest.raises(InvalidParameter, match="msgtype"):
        openapi_param({"msgtype": "empty"})


@pytest.mark.parametrize("msgtype", list(VALID))
async def test_every_validated_type_is_accepted_by_a_session_webhook(
    msgtype: str, fake: FakeDingTalk, client: DingTalkClient
) -> None:
    body = validate_outgoing(request(msgtype, VALID[msgtype]))
    await client.post_webhook(fake.session_webhook("s-types"), body)
    assert fake.session_messages("s-types") == [body]
