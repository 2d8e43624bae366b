"""The shape every background delivery loop shares: look for due work, and when there was none, sleep
until woken (infra/wakeup.py) or until the poll interval passes. The work itself is rows in the
database; a wake-up only says "look now". Also the retry waits those loops use."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from abc import ABC, abstractmethod

log = logging.getLogger(__name__)


class PollingLoop(ABC):
    name = "loop"

    def __init__(self, *, poll: float) -> None:
        self.poll = poll
        self._wake = asyncio.Event()
        self._soonest: float | None = None  # the event loop's time when work put off falls due

    def wake(self) -> None:
        self._wake.set()

    def due_in(self, seconds: float) -> None:
        """Work this process put off (a retry, a paced send) falls due in `seconds`: look again then, not
        at the next poll. Another process's rows are found at the poll or by a wake-up."""
        now = asyncio.get_running_loop().time()
        at = now + max(seconds, 0.0)
        if self._soonest is None or self._soonest <= now or at < self._soonest:
            self._soonest = at

    @abstractmethod
    async def run_due(self) -> bool:
        """Do what is due now; True if anything was attempted (then look again at once)."""

    async def run(self) -> None:
        while True:
            self._wake.clear()  # before looking: a wake-up that comes during the pass is kept
            try:
                busy = await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s pass failed", self.name)
                busy = False
            if not busy:
                # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that arrives with a wake-up
                # (CPython gh-86296), and the loop would then never stop.
                sleep = self.poll
                if self._soonest is not None:
                    left = self._soonest - asyncio.get_running_loop().time()
                    sleep = min(sleep, max(left, 0.0))
                    if left <= 0:
                        # Due already: one more look at once, then the poll again (a row another process
                        # holds must not keep this loop spinning).
                        self._soonest = None
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(sleep):
                        await self._wake.wait()


def backoff(attempts: int, max_backoff: float) -> float:
    """Seconds before attempt `attempts + 1`: 1, 2, 4, ... up to max_backoff, jittered by ±20 % so that
    rows failed together are not retried together."""
    return min(max_backoff, 2.0 ** (max(attempts, 1) - 1)) * random.uniform(0.8, 1.2)
