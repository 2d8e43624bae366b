"""A claimed row's lease, renewed while its work runs.

Inbox messages, outbox messages and jobs are claimed by setting `locked_until`; a process that dies
stops renewing, so its claim ends within one (short) lease and another process takes the work over in
seconds. A live process renews every third of the lease, so slow work is never taken from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from types import TracebackType

from tortoise.models import Model

from infra.timeutil import utcnow

log = logging.getLogger(__name__)


class Lease:
    def __init__(self, model: type[Model], row_id: int, until: datetime, length: timedelta) -> None:
        self.model = model
        self.row_id = row_id
        self.until = until  # the locked_until the row holds while it is ours
        self.length = length
        self.lost = False
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Lease:
        self._task = asyncio.create_task(self._renew(), name=f"lease {self.model.__name__} {self.row_id}")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Stop renewing; a renewal under way finishes first, so `until` is what the row holds."""
        self._stop.set()
        if self._task is not None:
            task, self._task = self._task, None
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                task.cancel()
                raise

    async def _renew(self) -> None:
        period = self.length.total_seconds() / 3
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(period):
                    await self._stop.wait()
            if self._stop.is_set():
                return
            until = utcnow() + self.length
            try:
                renewed = await self.model.filter(id=self.row_id, locked_until=self.until).update(locked_until=until)
            except Exception:
                log.exception("renewing the lease of %s %s failed", self.model.__name__, self.row_id)
                continue
            if not renewed:
                # Finished meanwhile, or another process took it over: nothing left to hold.
                self.lost = True
                return
            self.until = until
