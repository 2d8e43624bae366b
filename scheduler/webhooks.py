"""Delivering webhooks (workflow/webhooks.py) after commit, on the machinery the outbox uses: a due row
is claimed with a lease (models/lease.py `claim`, renewed by `Lease` while the request runs), retried
with doubling waits (infra/loop.py `backoff`), and the loop is woken by the same wake-ups as the outbox.

A row is marked delivered only after the receiver answered 2xx. A worker that dies mid-request stops
renewing its lease and another sends the row again when the lease ends: at least once, with the same
event id, which the receiver dedupes. Receivers get `api.webhook_timeout` seconds; a slow one holds one
of `concurrency` slots, never the others.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import cast

import aiohttp
from tortoise.expressions import Q

from infra.loop import PollingLoop, backoff
from infra.timeutil import utcnow
from models import MessageState, WebhookDelivery, WebhookSubscription
from models.lease import Lease, claim
from workflow.webhooks import body_of, signed_headers

log = logging.getLogger(__name__)


class WebhookSender(PollingLoop):
    name = "webhooks"

    def __init__(
        self,
        *,
        timeout: float,
        max_attempts: int,
        max_backoff: float,
        poll: float = 0.5,
        lease: timedelta = timedelta(seconds=30),
        concurrency: int = 8,
    ) -> None:
        super().__init__(poll=poll)
        self.timeout, self.max_attempts, self.max_backoff = timeout, max_attempts, max_backoff
        # Longer than a request may take, so that a live sender's lease never runs out mid-request.
        self.lease = max(lease, timedelta(seconds=timeout * 2))
        self._slots = asyncio.Semaphore(concurrency)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def run_due(self, limit: int = 50) -> bool:
        now = utcnow()
        due = (
            await WebhookDelivery.filter(state=MessageState.PENDING, next_attempt_at__lte=now)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
            .order_by("id")
            .limit(limit)
            .values_list("id", flat=True)
        )
        results = await asyncio.gather(*(self._deliver(cast(int, row_id)) for row_id in due))
        return any(results)

    async def _deliver(self, row_id: int) -> bool:
        async with self._slots:
            row = await claim(WebhookDelivery, row_id, pending=MessageState.PENDING.value, lease=self.lease)
            if row is None:
                return False  # another worker has it
            assert row.locked_until is not None
            async with Lease(WebhookDelivery, row.id, row.locked_until, self.lease):
                await self._attempt(row)
            return True

    async def _attempt(self, row: WebhookDelivery) -> None:
        subscription = await WebhookSubscription.get(id=row.subscription_id)
        if not subscription.active:
            await self._finish(row, MessageState.FAILED, error="订阅已停用")
            return
        body = body_of(row)
        try:
            async with self._http().post(
                subscription.url, data=body, headers=signed_headers(subscription, row, body), allow_redirects=False
            ) as resp:
                status = resp.status
                answer = (await resp.content.read(500)).decode(errors="replace")
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            await self._retry(row, None, f"{type(exc).__name__}: {exc}")
            return
        if 200 <= status < 300:
            await self._finish(row, MessageState.DONE, status=status)
        else:
            await self._retry(row, status, f"HTTP {status}: {answer}")

    async def _retry(self, row: WebhookDelivery, status: int | None, error: str) -> None:
        if row.attempts >= self.max_attempts:
            await self._finish(row, MessageState.FAILED, status=status, error=f"{row.attempts} 次均失败：{error}")
            return
        delay = backoff(row.attempts, self.max_backoff)
        log.info("webhook delivery %s: %s; retry in %.1f s", row.id, error[:200], delay)
        await WebhookDelivery.filter(id=row.id).update(
            next_attempt_at=utcnow() + timedelta(seconds=delay),
            locked_until=None,
            last_status=status,
            last_error=error[:2000],
        )
        self.due_in(delay)

    async def _finish(
        self, row: WebhookDelivery, state: MessageState, *, status: int | None = None, error: str = ""
    ) -> None:
        if state == MessageState.FAILED:
            log.warning("webhook delivery %s failed: %s", row.id, error[:200])
        await WebhookDelivery.filter(id=row.id).update(
            state=state,
            locked_until=None,
            last_status=status,
            last_error=error[:2000],
            delivered_at=utcnow() if state == MessageState.DONE else None,
        )
