"""Splitting long answers to DingTalk's body limit: where the cuts fall, and that DingTalk takes every part."""

from __future__ import annotations

import json
import re

import pytest

from dtbot.dingtalk.client import DingTalkClient
from dtbot.dingtalk.messages import DEFAULT_LIMIT, encoded_size, markdown_message, split_for_dingtalk
from tests.fakes.dingtalk import FakeDingTalk

FENCE = re.compile(r"^\s*```", re.MULTILINE)
FENCE_LINE = re.compile(r"^\s*```.*$", re.MULTILINE)


def words(text: str) -> str:
    """The text without whitespace or code fence lines: what no split may lose, reorder or duplicate."""
    return "".join(FENCE_LINE.sub("", text).split())


def twice_encoded(text: str) -> int:
    """The size the splitter promises, computed with the standard library."""
    return len(json.dumps(json.dumps(text, ensure_ascii=False), ensure_ascii=False).encode())


def test_a_text_that_fits_comes_back_unchanged() -> None:
    text = "  你好\n\n\n世界  \n"
    assert split_for_dingtalk(text) == [text]
    assert split_for_dingtalk("") == [""]


def test_encoded_size_counts_utf8_bytes_of_the_json_inside_json() -> None:
    for text in ["abc", "你好", 'say "hi"\n\\path', "emoji 😀", "\x01\t"]:
        assert encoded_size(text) == twice_encoded(text)


def test_chinese_paragraphs_are_cut_between_paragraphs_in_order() -> None:
    paragraphs = [f"第{i}段。" + "钉钉机器人接入大模型。" * 40 for i in range(60)]
    text = "\n\n".join(paragraphs)
    parts = split_for_dingtalk(text)
    assert len(parts) > 1
    assert all(encoded_size(part) <= DEFAULT_LIMIT for part in parts)
    assert "\n\n".join(parts) == text  # every cut fell on a paragraph break
    assert all(part.startswith("第") for part in parts)


def test_the_limit_is_exact() -> None:
    text = "\n\n".join(["甲" * 100, "乙" * 100])
    size = encoded_size(text)
    assert split_for_dingtalk(text, size) == [text]
    assert split_for_dingtalk(text, size - 1) == ["甲" * 100, "乙" * 100]


def test_a_paragraph_too_long_is_cut_between_lines() -> None:
    lines = [f"- 第{i}项：" + "内容" * 20 for i in range(100)]
    text = "\n".join(lines)
    parts = split_for_dingtalk(text, 2_000)
    assert len(parts) > 1 and all(encoded_size(part) <= 2_000 for part in parts)
    assert "\n".join(parts) == text


def test_a_line_too_long_is_cut_between_characters_never_inside_one() -> None:
    text = "汉字😀é" * 3_000  # three, four and two bytes
    parts = split_for_dingtalk(text, 1_000)
    assert "".join(parts) == text
    for part in parts:
        assert encoded_size(part) <= 1_000
        part.encode("utf-8", errors="strict")  # a lone surrogate or half character would not encode
    assert max(encoded_size(part) for part in parts[:-1]) > 990  # parts are filled, not merely cut


def test_a_code_block_that_fits_in_a_part_moves_whole_to_the_next() -> None:
    prose = "说明文字。" * 100
    code = "```python\n" + "\n".join(f"x_{i} = {i}  # 第{i}行" for i in range(40)) + "\n```"
    text = f"{prose}\n\n{code}\n\n结束。"
    limit = encoded_size(code) + 100
    parts = split_for_dingtalk(text, limit)
    assert any(part.startswith(code) for part in parts)
    assert words("\n".join(parts)) == words(text)


def test_a_code_block_too_long_is_closed_and_reopened_around_each_cut() -> None:
    code = "```python\n" + "\n".join(f'print("行 {i}")' for i in range(2_000)) + "\n```"
    text = f"先看代码：\n\n{code}\n\n以上。"
    parts = split_for_dingtalk(text, 3_000)
    assert len(parts) > 5
    for part in parts:
        assert encoded_size(part) <= 3_000
        assert len(FENCE.findall(part)) % 2 == 0  # every part renders its code as code
    assert all(part.lstrip().startswith("```python") for part in parts[1:])
    assert words("\n".join(parts)) == words(text)
    numbers = [int(n) for n in re.findall(r"行 (\d+)", "".join(parts))]
    assert numbers == list(range(2_000))


def test_blank_lines_inside_a_code_block_are_not_paragraph_breaks() -> None:
    code = "```\n" + "\n\n".join(f"block {i}" for i in range(30)) + "\n```"
    text = "前言" * 50 + "\n\n" + code
    parts = split_for_dingtalk(text, encoded_size(code) + 20)
    assert parts[-1] == code


def test_a_tiny_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        split_for_dingtalk("x" * 100, 10)


async def test_dingtalk_accepts_every_part_of_a_very_long_answer(fake: FakeDingTalk, client: DingTalkClient) -> None:
    """The fake enforces the 20,000-byte body limit, so this proves the headroom is enough."""
    answer = "\n\n".join(
        [f"## 第{i}节\n" + ('引号"和反斜杠\\' * 30 + "\n") * 10 for i in range(20)]
        + ["```\n" + "\n".join("代码" * 30 for _ in range(600)) + "\n```"]
    )
    parts = split_for_dingtalk(answer)
    assert len(parts) > 3
    title = "很长的标题" * 4
    for number, part in enumerate(parts, start=1):
        text = f"{part}\n\n@staff_0123456789" if number == len(parts) else part
        await client.post_webhook(
            fake.session_webhook("long"), markdown_message(f"{title} ({number}/{len(parts)})", text)
        )
    assert len(fake.session_messages("long")) == len(parts)
    assert max(request.size for request in fake.requests) > 15_000  # parts are close to the limit, yet within it
