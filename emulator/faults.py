"""Injected faults: each one is used up by the next call of its API."""

from __future__ import annotations

from collections import deque
from enum import StrEnum


class FaultKind(StrEnum):
    TOKEN_EXPIRED = "token_expired"  # answer 42001 without processing
    TOKEN_INVALID = "token_invalid"  # answer 40014 without processing
    RATE_LIMIT = "rate_limit"  # answer 45009 without processing
    SERVER_ERROR = "server_error"  # HTTP 502 without processing
    TIMEOUT = "timeout"  # process, then hold the answer longer than the client waits
    DROP_AFTER_PROCESSING = "drop_after_processing"  # process, then HTTP 502


def normalize_api(api: str) -> str:
    """ "message/send", "/cgi-bin/message/send" and "cgi-bin/message/send" are one API."""
    api = api.strip("/")
    return api.removeprefix("cgi-bin/")


class FaultPlan:
    def __init__(self) -> None:
        self._queues: dict[str, deque[FaultKind]] = {}

    def inject(self, api: str, kind: FaultKind | str, count: int = 1) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        fault = FaultKind(kind)
        self._queues.setdefault(normalize_api(api), deque()).extend([fault] * count)

    def take(self, api: str) -> FaultKind | None:
        queue = self._queues.get(normalize_api(api))
        return queue.popleft() if queue else None

    def pending(self) -> dict[str, list[str]]:
        return {api: [str(k) for k in queue] for api, queue in self._queues.items() if queue}

    def clear(self) -> None:
        self._queues.clear()
