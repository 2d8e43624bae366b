"""One-use codes with a lifetime: OAuth codes (5 min) and template card response codes (72 h)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Generic, TypeVar

from emulator.clock import Clock

T = TypeVar("T")


@dataclass
class _Entry(Generic[T]):
    value: T
    expires_at: float
    used: bool = False


class OneUseCodes(Generic[T]):
    def __init__(self, clock: Clock, ttl: float, nbytes: int = 24) -> None:
        self._clock = clock
        self._ttl = ttl
        self._nbytes = nbytes
        self._entries: dict[str, _Entry[T]] = {}

    def issue(self, value: T) -> str:
        code = secrets.token_urlsafe(self._nbytes)
        self._entries[code] = _Entry(value, self._clock.now() + self._ttl)
        return code

    def peek(self, code: str) -> T | None:
        """The value if the code is known, unused and unexpired; does not use it up."""
        entry = self._entries.get(code)
        if entry is None or entry.used or entry.expires_at <= self._clock.now():
            return None
        return entry.value

    def consume(self, code: str) -> T | None:
        value = self.peek(code)
        if value is not None:
            self._entries[code].used = True
        return value
