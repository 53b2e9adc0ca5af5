"""Logging set-up, re-applied live when the runtime `logLevel` or `enableLogging` changes."""

from __future__ import annotations

import logging

LOGGER = "dtbot"
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def configure(level: str, *, enabled: bool = True) -> None:
    """Set dtbot's log level; `enabled=False` silences everything but errors."""
    logger = logging.getLogger(LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(_LEVELS.get(level, logging.INFO) if enabled else logging.ERROR)


def get(name: str) -> logging.Logger:
    """The logger for a dtbot module."""
    return logging.getLogger(f"{LOGGER}.{name}")
