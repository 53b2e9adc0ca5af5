"""Prometheus metrics of this process, served at `GET /metrics`.

Defined once per process (Prometheus' own convention); the layers record
into them: HTTP in the server, LLM calls in the chat service, deliveries and
the robot's queue in the DingTalk services, rate-limit rejections in access.
With several worker processes each keeps its own (scale with replicas, one
worker each, as the Kubernetes manifests do).
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_SLOW = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300)

HTTP_REQUESTS = Counter(
    "dtbot_http_requests",
    "HTTP requests by route template, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "dtbot_http_request_duration_seconds",
    "Time to the end of the response (whole streams included).",
    ["route", "method"],
    buckets=_FAST,
    registry=REGISTRY,
)
LLM_CALLS = Counter(
    "dtbot_llm_calls",
    "Upstream LLM calls by provider, model and outcome (ok, error, cancelled).",
    ["provider", "model", "status"],
    registry=REGISTRY,
)
LLM_TOKENS = Counter(
    "dtbot_llm_tokens",
    "Tokens of LLM calls by kind (prompt, completion).",
    ["provider", "model", "kind"],
    registry=REGISTRY,
)
LLM_LATENCY = Histogram(
    "dtbot_llm_latency_seconds",
    "Upstream call time, start to last byte.",
    ["provider", "model"],
    buckets=_SLOW,
    registry=REGISTRY,
)
LLM_TTFT = Histogram(
    "dtbot_llm_ttft_seconds",
    "Time to the first token of streamed answers.",
    ["provider", "model"],
    buckets=_SLOW,
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge("dtbot_robot_queue_depth", "DingTalk messages waiting or being answered.", registry=REGISTRY)
QUEUE_AGE = Gauge("dtbot_robot_queue_age_seconds", "Age of the oldest unanswered DingTalk message.", registry=REGISTRY)
DELIVERIES = Counter(
    "dtbot_dingtalk_deliveries",
    "Robot replies by path (callback, session_webhook, openapi, card) and outcome.",
    ["path", "outcome"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter("dtbot_rate_limit_rejections", "Requests refused with 429.", registry=REGISTRY)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
