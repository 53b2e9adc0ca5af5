"""The event-stream decoder, fed the way a network may cut a stream."""

from __future__ import annotations

import pytest

from dtbot.providers.sse import Event, SSEDecoder, SSEError

STREAM = (
    b": keep-alive comment\n"
    b'data: {"a": 1}\n'
    b"\n"
    b"event: content_block_delta\r\n"
    b'data: {"b":\r\n'
    b"data: 2}\r\n"
    b"\r\n"
    b"id: 7\n"
    b"retry: 100\n"
    b"data:[DONE]\n"
    b"\n"
)
EVENTS = [
    Event("", b'{"a": 1}'),
    Event("content_block_delta", b'{"b":\n2}'),
    Event("", b"[DONE]"),
]


def decode(chunks: list[bytes]) -> list[Event]:
    decoder = SSEDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.close()


def test_whole_stream_gives_each_event_with_its_name_and_joined_data() -> None:
    assert decode([STREAM]) == EVENTS


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13])
def test_stream_cut_into_pieces_of_any_size_gives_the_same_events(size: int) -> None:
    chunks = [STREAM[i : i + size] for i in range(0, len(STREAM), size)]
    assert decode(chunks) == EVENTS


def test_crlf_split_between_chunks_does_not_end_the_event_early() -> None:
    assert decode([b"data: x\r", b"\ndata: y\r\n\r\n"]) == [Event("", b"x\ny")]


def test_last_event_without_blank_line_is_still_given_at_close() -> None:
    assert decode([b"data: tail"]) == [Event("", b"tail")]


def test_blank_lines_without_data_dispatch_nothing_and_forget_the_event_name() -> None:
    assert decode([b"event: ping\n\n\n\ndata: x\n\n"]) == [Event("", b"x")]


@pytest.mark.parametrize("line", [b'{"choices": []}', b"<html>", b"datum: x"])
def test_line_that_is_no_event_stream_field_is_an_error(line: bytes) -> None:
    with pytest.raises(SSEError, match="not an event stream line"):
        SSEDecoder().feed(line + b"\n")
