"""Logging set-up: readable lines in a terminal, JSON in production, each record with its request id.

Re-applied live when the runtime `logLevel` or `enableLogging` changes. Nothing
logs secrets: keys and tokens never reach a log call, and error messages from
upstreams are scrubbed before they are raised.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar

LOGGER = "dtbot"
REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="-")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id (and the exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str, *, enabled: bool = True, fmt: str | None = None) -> None:
    """Set dtbot's log level (`enabled=False` keeps errors only) and, once, its format."""
    logger = logging.getLogger(LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.addFilter(_RequestIdFilter())
        handler.setFormatter(
            JsonFormatter()
            if fmt == "json"
            else logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(_LEVELS.get(level, logging.INFO) if enabled else logging.ERROR)


def get(name: str) -> logging.Logger:
    """The logger for a dtbot module."""
    return logging.getLogger(f"{LOGGER}.{name}")
