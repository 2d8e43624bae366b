"""The job runner. A job's effects (its outbox rows) and marking it done commit in one transaction;
the claim is a lease, so a worker that dies mid-job leaves the job to be picked up again. Jobs are
added with `workflow.jobs.schedule`. A job with slow work (drawing a chart) is `Staged`: the slow part
runs first, outside any transaction, and its result goes into the short one.

PostgreSQL claims with SELECT ... FOR UPDATE SKIP LOCKED, so workers never wait on each other; SQLite
(one process) claims with a conditional update.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from infra.db import db
from infra.delivery import pushing
from infra.timeutil import utcnow
from models import Job, MessageState
from models.lease import Lease
from workflow.jobs import Staged

log = logging.getLogger(__name__)

JobHandler = Callable[[dict[str, Any]], Awaitable[None]]


class LeaseLost(Exception):
    """Another worker took the job over (our lease ran out): our work is rolled back."""


class Scheduler:
    def __init__(
        self,
        handlers: Mapping[str, JobHandler | Staged[Any]],
        *,
        planner: Callable[[], Awaitable[None]] | None = None,
        after_commit: Callable[[], None] = lambda: None,
        poll: float = 1.0,
        lease: timedelta = timedelta(seconds=10),
        max_attempts: int = 8,
    ) -> None:
        self.handlers = handlers
        self.planner = planner
        self.after_commit = after_commit
        self.poll = poll
        self.lease = lease
        self.max_attempts = max_attempts
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """A job may be due now (a chart to draw, or one added by another process): look before the next poll."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()  # before looking: a wake-up that comes during the pass is kept
            try:
                if self.planner is not None:
                    await self.planner()
                busy = await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler pass failed")
                busy = 0
            if not busy:
                # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that arrives with a wake-up
                # (CPython gh-86296), and the loop would then never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll):
                        await self._wake.wait()

    async def run_due(self, limit: int = 20) -> int:
        jobs = await self.claim(limit)
        for job in jobs:
            await self.process(job)
        return len(jobs)

    async def claim(self, limit: int) -> list[Job]:
        now = utcnow()
        until = now + self.lease
        conn = db()
        if conn.capabilities.dialect == "postgres":
            async with in_transaction() as tx:
                _, rows = await tx.execute_query(
                    "SELECT id FROM job WHERE state = $1 AND due_at <= $2"
                    " AND (locked_until IS NULL OR locked_until < $2)"
                    " ORDER BY due_at, id LIMIT $3 FOR UPDATE SKIP LOCKED",
                    [MessageState.PENDING.value, now, limit],
                )
                ids = [r["id"] for r in rows]
                if ids:
                    await Job.filter(id__in=ids).update(locked_until=until, attempts=F("attempts") + 1)
        else:
            candidates = (
                await Job.filter(state=MessageState.PENDING, due_at__lte=now)
                .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
                .order_by("due_at", "id")
                .limit(limit)
                .values_list("id", flat=True)
            )
            ids = []
            for job_id in candidates:
                claimed = (
                    await Job.filter(id=job_id, state=MessageState.PENDING)
                    .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
                    .update(locked_until=until, attempts=F("attempts") + 1)
                )
                if claimed:
                    ids.append(job_id)
        return await Job.filter(id__in=ids).order_by("due_at", "id") if ids else []

    async def process(self, job: Job) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            await self._finish(job, MessageState.FAILED, f"no handler for {job.kind}")
            return
        assert job.locked_until is not None
        # Renewed while the slow part (a chart) runs, so a dead worker's job is taken over in seconds.
        lease = Lease(Job, job.id, job.locked_until, self.lease)
        try:
            with pushing():
                if isinstance(handler, Staged):
                    async with lease:
                        prepared = await handler.prepare(job.payload)
                    apply = functools.partial(handler.apply, job.payload, prepared)
                else:
                    apply = functools.partial(handler, job.payload)
                job.locked_until = lease.until
                async with in_transaction():
                    await apply()
                    done = await Job.filter(
                        id=job.id, state=MessageState.PENDING, locked_until=job.locked_until
                    ).update(state=MessageState.DONE, done_at=utcnow(), locked_until=None, last_error="")
                    if not done:
                        raise LeaseLost(f"job {job.id} was taken over")
        except asyncio.CancelledError:
            raise
        except LeaseLost as exc:
            log.warning("%s", exc)
            return
        except Exception as exc:
            log.exception("job %s (%s) failed", job.id, job.kind)
            if job.attempts >= self.max_attempts:
                await self._finish(job, MessageState.FAILED, repr(exc))
            else:
                delay = timedelta(seconds=min(3600, 30 * 2 ** (job.attempts - 1)))
                await Job.filter(id=job.id, locked_until=job.locked_until).update(
                    locked_until=None, due_at=utcnow() + delay, last_error=repr(exc)[:2000]
                )
            return
        self.after_commit()

    async def _finish(self, job: Job, state: MessageState, error: str) -> None:
        with contextlib.suppress(Exception):
            await Job.filter(id=job.id, locked_until=job.locked_until).update(
                state=state, done_at=utcnow(), locked_until=None, last_error=error[:2000]
            )
