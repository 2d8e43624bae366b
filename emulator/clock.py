"""A wall clock that tests can move forward to reach 5-minute, 2-hour and 72-hour expiries."""

from __future__ import annotations

import time


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds
