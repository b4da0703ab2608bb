"""Prometheus metrics and structured logging (structlog, JSON lines).

Every metric here is fed (tests/test_metrics.py moves each one on a real node) and used
by deploy/grafana/raasel.json and deploy/prometheus/raasel-alerts.yml (README,
"Metrics and dashboards"). The engine's own are observed once per committed batch,
never per statement: the committer's hot path pays a few additions per batch.
"""

from __future__ import annotations

import logging

import structlog
from prometheus_client import Counter, Gauge, Histogram

MESSAGES_STORED = Counter("raasel_messages_stored_total", "Messages durably stored", ["kind"])
EVENTS_PUBLISHED = Counter("raasel_events_published_total", "Live events published", ["event"])
FANOUT_PUBLISHED = Counter(
    "raasel_fanout_published_total", "Events handed to Redis for other nodes"
)
FANOUT_RECEIVED = Counter(
    "raasel_fanout_received_total", "Events from other nodes delivered to this node's sockets"
)
FANOUT_DROPPED = Counter(
    "raasel_fanout_dropped_total", "Events not sent to other nodes (Redis down or queue full)"
)
SOCKET_CONNECTIONS = Gauge("raasel_socket_connections", "Connected Socket.IO clients")
SOCKET_EVENTS = Counter("raasel_socket_events_total", "Client socket events", ["event", "outcome"])
HTTP_REQUESTS = Histogram(
    "raasel_http_request_seconds", "REST request duration", ["method", "status"]
)

# The engine (storage/database.py): one observation per committed batch.
COMMIT_BATCH_UNITS = Histogram(
    "raasel_commit_batch_units",
    "Units of work committed together in one transaction (group commit)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
COMMIT_SECONDS = Histogram(
    "raasel_commit_seconds",
    "One batch's transaction, BEGIN to COMMIT (the fsync included)",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
COMMIT_FAILURES = Counter(
    "raasel_commit_failures_total", "Batch transactions that failed (retried or split up)"
)
COMMITTER_QUEUE = Gauge(
    "raasel_committer_queue_depth", "Units of work waiting for the committer (read at scrape)"
)
PUBLISH_SECONDS = Histogram(
    "raasel_publish_seconds",
    "A committed batch's COMMIT until its events were handed to the sockets and Redis",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
PUBLISH_QUEUE = Gauge(
    "raasel_publish_queue_depth", "Committed batches waiting to be published (read at scrape)"
)
RATE_LIMIT_REFUSALS = Counter(
    "raasel_rate_limit_refusals_total", "Requests refused by a rate limit", ["limit"]
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
