"""Prometheus metrics, served at /metrics."""

from prometheus_client import Counter, Histogram

CALLBACKS = Counter("relay_callbacks_total", "WeCom callbacks received", ["result"])
INBOX_HANDLED = Counter("relay_inbox_handled_total", "Inbound messages handled", ["result"])
OUTBOX_SENT = Counter("relay_outbox_total", "Outbound messages by outcome", ["kind", "result"])
HANDLE_SECONDS = Histogram("relay_handle_seconds", "Time to handle one inbound message")
