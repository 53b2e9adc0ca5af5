"""The dashboard's tabs, in the order of their number keys."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Tab:
    mode: str  # the App mode (screen) it shows
    label: str


TABS: tuple[Tab, ...] = (
    Tab("overview", "Overview"),
    Tab("conversations", "Conversations"),
    Tab("chat", "Chat"),
    Tab("settings", "Config"),
    Tab("keys", "Keys"),
    Tab("requests", "Requests"),
)
