"""Offline token counts with o200k_base."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dtbot.tokens import count_messages, count_text


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 0),
        ("hello world", 2),
        ("Hello, world!", 4),
        ("The quick brown fox jumps over the lazy dog.", 10),
        ("def f(x):\n    return x**2  # comment\n", 13),
    ],
)
def test_english_and_code_counts_match_o200k_base(text: str, tokens: int) -> None:
    assert count_text(text) == tokens


@pytest.mark.parametrize(
    ("text", "tokens"),
    [("你好，请帮我分析一下这个问题", 8), ("人工智能（AI）的发展历程可以分为以下几个重要阶段...", 16)],
)
def test_chinese_counts_match_o200k_base(text: str, tokens: int) -> None:
    assert count_text(text) == tokens


def test_chinese_counts_fewer_tokens_than_characters_but_not_one_per_sentence() -> None:
    text = "钉钉机器人与大语言模型集成系统，支持会话上下文管理和消息预处理。" * 10
    assert len(text) // 4 < count_text(text) < len(text)


def test_special_token_text_is_counted_as_plain_text() -> None:
    assert count_text("<|endoftext|>") == 7


def test_messages_add_three_per_message_and_three_for_the_reply() -> None:
    one = [{"role": "user", "content": "hello world"}]
    two = [{"role": "system", "content": "You are a helpful assistant."}, *one]

    assert count_messages(one) == 3 + 1 + 2 + 3  # overhead, "user", "hello world", reply priming
    assert count_messages(two) - count_messages(one) == 3 + count_text("system") + count_text(two[0]["content"])


def test_messages_count_names_text_parts_and_tool_calls() -> None:
    base = count_messages([{"role": "user", "content": "hi"}])
    named = count_messages([{"role": "user", "content": "hi", "name": "alice"}])
    parts = count_messages([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
    call = {"function": {"name": "lookup", "arguments": '{"text": "cat"}'}}
    tooled = count_messages([{"role": "assistant", "content": None, "tool_calls": [call]}])

    assert named == base + 1 + count_text("alice")
    assert parts == base
    assert tooled == 3 + 3 + count_text("assistant") + count_text("lookup") + count_text('{"text": "cat"}')


def test_counting_needs_no_network_or_cache(tmp_path: Path) -> None:
    # A fresh interpreter with an empty cache directory and proxies pointing nowhere: any download would fail.
    env = {
        **os.environ,
        "TIKTOKEN_CACHE_DIR": str(tmp_path),
        "HOME": str(tmp_path),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
    }
    code = "from dtbot.tokens import count_text; print(count_text('hello world'))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "2"
    assert list(tmp_path.iterdir()) == []


def test_the_byte_bound_never_undercounts() -> None:
    from dtbot.tokens import count_messages, upper_bound

    samples = ["hello world", "你好，世界 👋🏽", "  spaces\n\nand\ttabs  ", "a" * 5000, "混合 mixed テキスト 123 !@#"]
    for text in samples:
        messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": text, "name": "bob"}]
        assert upper_bound(messages) >= count_messages(messages)
    parts = [{"role": "user", "content": [{"type": "text", "text": "图"}, {"type": "image_url", "image_url": {}}]}]
    assert upper_bound(parts) >= count_messages(parts)
