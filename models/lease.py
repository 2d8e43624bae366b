"""A claimed row's lease, renewed while its work runs.

Inbox messages, outbox messages and jobs are claimed by setting `locked_until`; a process that dies
stops renewing, so its claim ends within one (short) lease and another process takes the work over in
seconds. A live process renews every third of the lease, so slow work is never taken from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from datetime import datetime, timedelta
from types import TracebackType
from typing import TypeVar

from tortoise.models import Model

from infra.db import db
from infra.timeutil import utcnow

log = logging.getLogger(__name__)
M = TypeVar("M", bound=Model)


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


@functools.cache
def _claim_sql(table: str, dialect: str) -> str:
    p = ["$1", "$2", "$3", "$4"] if dialect == "postgres" else ["?"] * 4
    return (
        f'UPDATE "{table}" SET locked_until = {p[0]}, attempts = attempts + 1'
        f" WHERE id = {p[1]} AND state = {p[2]} AND (locked_until IS NULL OR locked_until < {p[3]}) RETURNING *"
    )


async def claim(model: type[M], row_id: int, *, pending: str, lease: timedelta) -> M | None:
    """Claim a due row (one with `state`, `attempts` and `locked_until` columns) for `lease`: a conditional
    update, so of several processes exactly one gets it; the row as claimed comes back in the same
    statement (UPDATE … RETURNING). None: another process has it, or it is no longer `pending`."""
    now = utcnow()
    conn = db()
    when = model._meta.fields_map["locked_until"]
    rows = await conn.execute_query_dict(
        _claim_sql(model._meta.db_table, conn.capabilities.dialect),
        [when.to_db_value(now + lease, model), row_id, pending, when.to_db_value(now, model)],
    )
    return model._init_from_db(**rows[0]) if rows else None
