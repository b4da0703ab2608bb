"""Prometheus metrics and structured logging (structlog, JSON lines)."""

from __future__ import annotations

import logging

import structlog
from prometheus_client import Counter, Gauge, Histogram

MESSAGES_STORED = Counter("raasel_messages_stored_total", "Messages durably stored", ["kind"])
EVENTS_PUBLISHED = Counter("raasel_events_published_total", "Live events published", ["event"])
SOCKET_CONNECTIONS = Gauge("raasel_socket_connections", "Connected Socket.IO clients")
SOCKET_EVENTS = Counter("raasel_socket_events_total", "Client socket events", ["event", "outcome"])
HTTP_REQUESTS = Histogram(
    "raasel_http_request_seconds", "REST request duration", ["method", "status"]
)


def configure_logging(level: str) -> None:
    """JSON logs to stderr. Message text is never logged, only ids and sizes."""
    logging.basicConfig(format="%(message)s", level=level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
