"""Prefixed, time-ordered identifiers (`conv_…`, `msg_…`, `key_…`)."""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str) -> str:
    """A new id: the prefix, 12 hex digits of milliseconds, then 10 random hex digits.

    The time part keeps ids roughly sortable by creation, which keeps B-tree
    inserts local; the random part keeps them unguessable.
    """
    return f"{prefix}_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(5)}"
