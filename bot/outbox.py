"""The outbox: every message the bot sends is a row written with the change that caused it, then delivered.

Delivery is at-least-once at the transport and made once by WeCom's own checks: a card carries a
task_id used for nothing else (a re-send after a lost answer gets 42014: it was delivered), and a
re-sent text asks WeCom's duplicate check (90236) to drop it if the first try got through.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import timedelta
from typing import Any, cast

from tortoise.expressions import F, Q

from bot.client import WeComClient, WeComError, WeComRetryable
from infra.metrics import OUTBOX_SENT
from infra.runtime import runtime
from infra.timeutil import utcnow
from models import MessageState, OutboxKind, OutboxMessage

log = logging.getLogger(__name__)

TASK_ID_USED = 42014
ALL_RECIPIENTS_INVALID = 81013
RESPONSE_CODE_INVALID = 60140
# WeCom's longest duplicate-check window (4 h): covers every retry of a message.
RETRY_DUPLICATE_WINDOW = 4 * 3600


async def enqueue_message(message: dict[str, Any]) -> OutboxMessage:
    """Queue a message/send payload (touser, msgtype, ...). Call inside the caller's transaction."""
    card_task_id = None
    if message.get("msgtype") == "template_card":
        card_task_id = message["template_card"].get("task_id")
    return await OutboxMessage.create(
        kind=OutboxKind.SEND, payload=message, card_task_id=card_task_id, next_attempt_at=utcnow()
    )


async def enqueue_card_update(
    *,
    userids: list[str],
    response_code: str | None = None,
    card_task_id: str | None = None,
    replace_name: str | None = None,
    template_card: dict[str, Any] | None = None,
) -> OutboxMessage:
    """Update a card in place: with a click's response_code, or for everyone a card went to (card_task_id)."""
    if (replace_name is None) == (template_card is None):
        raise ValueError("give replace_name or template_card")
    payload: dict[str, Any] = {"userids": userids}
    if response_code:
        payload["response_code"] = response_code
    if replace_name is not None:
        payload["button"] = {"replace_name": replace_name}
    else:
        payload["template_card"] = template_card
    return await OutboxMessage.create(
        kind=OutboxKind.UPDATE_CARD, payload=payload, card_task_id=card_task_id, next_attempt_at=utcnow()
    )


class OutboxSender:
    def __init__(
        self,
        client: WeComClient,
        *,
        max_attempts: int,
        max_backoff: float,
        poll: float = 0.5,
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        self.lease = lease
        self.client = client
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.poll = poll
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()  # before looking: a wake-up that comes during the pass is kept
            try:
                busy = await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox pass failed")
                busy = False
            if not busy:
                # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that arrives with a wake-up
                # (CPython gh-86296), and the loop would then never stop.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll):
                        await self._wake.wait()

    async def deliver_due(self, limit: int = 50) -> bool:
        """Deliver what is due now; True if anything was attempted."""
        now = utcnow()
        due = (
            await OutboxMessage.filter(state=MessageState.PENDING, next_attempt_at__lte=now)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
            .order_by("id")
            .limit(limit)
            .values_list("id", flat=True)
        )
        attempted = False
        for row_id in due:
            row = await self._claim(cast(int, row_id))
            if row is not None:
                attempted = True
                await self._deliver(row)
        return attempted

    async def _claim(self, row_id: int) -> OutboxMessage | None:
        # A conditional update is the claim: of several senders, exactly one changes the row.
        now = utcnow()
        claimed = (
            await OutboxMessage.filter(id=row_id, state=MessageState.PENDING)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
            .update(locked_until=now + self.lease, attempts=F("attempts") + 1)
        )
        return await OutboxMessage.get(id=row_id) if claimed else None

    async def _deliver(self, row: OutboxMessage) -> None:
        try:
            if row.kind == OutboxKind.SEND:
                result = await self._send(row)
            else:
                result = await self._update(row)
        except WeComRetryable as exc:
            await self._retry_later(row, str(exc), rate_limited=exc.rate_limited)
            return
        except WeComError as exc:
            if self._delivered_before(row, exc):
                result = {}
            else:
                await self._fail(row, str(exc))
                return
        except _NotReady as exc:
            await self._retry_later(row, str(exc), rate_limited=False)
            return
        await OutboxMessage.filter(id=row.id).update(
            state=MessageState.DONE,
            sent_at=utcnow(),
            locked_until=None,
            msgid=str(result.get("msgid", "")),
            response_code=str(result.get("response_code", "")),
            last_error="",
        )
        OUTBOX_SENT.labels(row.kind.value, "sent").inc()
        if result.get("invaliduser"):
            log.warning("outbox %s: WeCom did not know %s", row.id, result["invaliduser"])

    def _delivered_before(self, row: OutboxMessage, exc: WeComError) -> bool:
        # Our task_ids are used once: 42014 on a re-send means an earlier attempt got through.
        if row.kind == OutboxKind.SEND and exc.errcode == TASK_ID_USED and row.attempts > 1:
            return True
        # Likewise a response code spent by an earlier attempt whose answer was lost.
        return row.kind == OutboxKind.UPDATE_CARD and exc.errcode == RESPONSE_CODE_INVALID and row.attempts > 1

    async def _send(self, row: OutboxMessage) -> dict[str, Any]:
        message = dict(row.payload)
        image = message.get("image") or {}
        if message.get("msgtype") == "image" and "relay_file" in image:
            # A chart or photo Relay stored: upload it now (media ids last 3 days, so never earlier).
            path = runtime().files.path(image["relay_file"])
            data = await asyncio.to_thread(path.read_bytes)
            media_id = await self.client.upload_media("image", "chart.png", data, "image/png")
            message["image"] = {"media_id": media_id}
        if message.get("msgtype") != "template_card" and row.attempts > 1:
            # Only on a re-send: a first try never asks, so a member who asks the same thing twice gets
            # two answers, while a retry after a lost answer is dropped by WeCom as the same message.
            message["enable_duplicate_check"] = 1
            message["duplicate_check_interval"] = RETRY_DUPLICATE_WINDOW
        return await self.client.send_message(message)

    async def _update(self, row: OutboxMessage) -> dict[str, Any]:
        update = dict(row.payload)
        if "response_code" not in update:
            sent = await OutboxMessage.filter(
                card_task_id=row.card_task_id, kind=OutboxKind.SEND, state=MessageState.DONE
            ).first()
            if sent is None:
                raise _NotReady(f"card {row.card_task_id} is not sent yet")
            if not sent.response_code:
                return {}  # a card WeCom gave no code for cannot be updated: nothing to do
            update["response_code"] = sent.response_code
        return await self.client.update_template_card(update)

    async def _retry_later(self, row: OutboxMessage, error: str, *, rate_limited: bool) -> None:
        if row.attempts >= self.max_attempts:
            await self._fail(row, f"gave up after {row.attempts} attempts: {error}")
            return
        delay = min(self.max_backoff, 2 ** (row.attempts - 1)) * random.uniform(0.8, 1.2)
        if rate_limited:
            delay = max(delay, 60.0)  # WeCom locks a minute limit for 60 s (90454)
        log.info("outbox %s: %s; retry in %.0f s", row.id, error, delay)
        await OutboxMessage.filter(id=row.id).update(
            next_attempt_at=utcnow() + timedelta(seconds=delay), locked_until=None, last_error=error[:2000]
        )
        OUTBOX_SENT.labels(row.kind.value, "retry").inc()

    async def _fail(self, row: OutboxMessage, error: str) -> None:
        log.error("outbox %s failed: %s", row.id, error)
        await OutboxMessage.filter(id=row.id).update(
            state=MessageState.FAILED, locked_until=None, last_error=error[:2000]
        )
        OUTBOX_SENT.labels(row.kind.value, "failed").inc()


class _NotReady(Exception):
    pass
