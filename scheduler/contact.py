"""The calls Relay makes for customers, after commit: WeCom customer contact (the 「联系我」 way, the
welcome message, mass-send tasks) and SMS. Its own loop, beside the outbox and the jobs: a welcome
code lasts 20 s (92137), so a welcome never waits behind message deliveries, chart uploads or slow jobs;
the inbox wakes this loop as soon as the add event is handled, and welcomes go first in every pass.

Each row is claimed with a lease and marked "sending" (committed) before its call. Calls that may run
twice safely go back to the queue when unsure (a welcome: its code works once; a contact way); a
mass-send task or an SMS whose outcome is unknown is never tried again (state "unknown", the
salesperson is told).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tortoise.expressions import F, Q
from tortoise.models import Model
from tortoise.transactions import in_transaction

from bot.client import WeComClient, WeComError, WeComRetryable
from infra.runtime import runtime
from infra.sms import Outcome, SmsProvider
from infra.timeutil import utcnow
from models import CallState, ContactWay, CustomerMessage, ExternalContact, SmsMessage
from workflow import contact

log = logging.getLogger(__name__)

STARTED_CHATTING = 41051  # the welcome already reached the customer (92137)
BEING_DISTRIBUTED = 41096  # another app is sending a welcome: may be retried (92137)
WAY_ATTEMPTS = 5


class CustomerCalls:
    def __init__(
        self,
        client: WeComClient,
        sms: SmsProvider | None,
        *,
        after_commit: Callable[[], None] = lambda: None,
        poll: float = 0.5,
        lease: timedelta = timedelta(seconds=30),
        retry: timedelta = timedelta(seconds=30),
        sms_retry: timedelta = timedelta(seconds=30),
    ) -> None:
        self.client, self.sms = client, sms
        self.after_commit, self.poll, self.lease, self.retry = after_commit, poll, lease, retry
        self.sms_retry = sms_retry  # the first wait before a deferred text is tried again (doubling)
        self._wake = asyncio.Event()
        self._recover_after = 0.0  # monotonic time of the next look for rows a dead worker left

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                busy = await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("customer calls pass failed")
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll):
                        await self._wake.wait()

    async def run_due(self) -> bool:
        # A dead worker's rows wait out a lease of seconds: looking for them once a poll is soon enough,
        # where every pass (woken by every committed change) made four statements more.
        if time.monotonic() >= self._recover_after:
            self._recover_after = time.monotonic() + self.poll
            await self._recover()
        welcomes = await self._each(ExternalContact, "welcome_state", self._welcome, due=False)
        rest = await asyncio.gather(
            self._each(ContactWay, "call_state", self._way),
            self._each(CustomerMessage, "call_state", self._mass_send),
            self._each(SmsMessage, "state", self._sms),
        )
        return welcomes or any(rest)

    async def _each(self, model: type[Model], field: str, work: Callable[[Any], Any], *, due: bool = True) -> bool:
        now = utcnow()
        query = model.filter(**{field: CallState.QUEUED}).filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        if due:
            query = query.filter(next_attempt_at__lte=now)
        ids = await query.order_by("id").limit(20).values_list("id", flat=True)
        claimed = []
        for row_id in ids:
            got = (
                await model.filter(id=row_id, **{field: CallState.QUEUED})
                .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
                .update(**{field: CallState.SENDING}, locked_until=now + self.lease, attempts=F("attempts") + 1)
            )
            if got:
                claimed.append(await model.get(id=row_id))
        await asyncio.gather(*(work(row) for row in claimed))
        return bool(claimed)

    async def _recover(self) -> None:
        """Rows a dead worker left "sending": safe calls go back to the queue, the others become unknown."""
        now = utcnow()
        for model, field in ((ExternalContact, "welcome_state"), (ContactWay, "call_state")):
            await model.filter(**{field: CallState.SENDING}, locked_until__lt=now).update(
                **{field: CallState.QUEUED}, locked_until=None
            )
        stale = await CustomerMessage.filter(call_state=CallState.SENDING, locked_until__lt=now).values_list(
            "id", flat=True
        )
        for message_id in stale:
            async with in_transaction():
                await contact.mass_send_failed(message_id, error="worker stopped mid-call", unknown=True)
            self.after_commit()
        await SmsMessage.filter(state=CallState.SENDING, locked_until__lt=now).update(
            state=CallState.UNKNOWN, locked_until=None, last_error="worker stopped mid-call"
        )

    # -- the welcome (20 s) --------------------------------------------------------------------------

    async def _welcome(self, row: ExternalContact) -> None:
        if row.welcome_deadline is None or row.welcome_deadline <= utcnow():
            await self._welcome_failed(row, "欢迎语 code 已过期（超过 20 秒）")
            return
        try:
            await self.client.send_welcome_msg({"welcome_code": row.welcome_code, **row.welcome_payload})
        except WeComRetryable as exc:
            await self._welcome_again(row, str(exc))
            return
        except WeComError as exc:
            if exc.errcode == STARTED_CHATTING:
                pass  # an earlier attempt whose answer was lost got through
            elif exc.errcode == BEING_DISTRIBUTED:
                await self._welcome_again(row, str(exc))
                return
            else:
                await self._welcome_failed(row, f"{exc.errcode} {exc.errmsg}")
                return
        await ExternalContact.filter(id=row.id).update(welcome_state=CallState.DONE, locked_until=None, last_error="")

    async def _welcome_again(self, row: ExternalContact, error: str) -> None:
        if row.welcome_deadline is not None and row.welcome_deadline > utcnow():
            await ExternalContact.filter(id=row.id).update(
                welcome_state=CallState.QUEUED, locked_until=utcnow() + timedelta(seconds=0.5), last_error=error[:500]
            )
        else:
            await self._welcome_failed(row, error)

    async def _welcome_failed(self, row: ExternalContact, error: str) -> None:
        async with in_transaction():
            await ExternalContact.filter(id=row.id).update(
                welcome_state=CallState.FAILED, locked_until=None, last_error=error[:500]
            )
            await contact.welcome_failed(row.id, error=error)
        self.after_commit()

    # -- the 「联系我」 way ------------------------------------------------------------------------------

    async def _way(self, row: ContactWay) -> None:
        member = await row.member
        order = await row.order
        try:
            answer = await self.client.add_contact_way(
                user=member.userid, state=row.state_key, remark=order.number[:30]
            )
        except WeComRetryable as exc:
            if row.attempts < WAY_ATTEMPTS:
                await ContactWay.filter(id=row.id).update(
                    call_state=CallState.QUEUED,
                    locked_until=None,
                    next_attempt_at=utcnow() + self.retry,
                    last_error=str(exc)[:500],
                )
                return
            error = str(exc)
        except WeComError as exc:
            error = f"{exc.errcode} {exc.errmsg}"
        else:
            async with in_transaction():
                await contact.contact_way_done(
                    row.id, config_id=str(answer.get("config_id", "")), qr_code=str(answer.get("qr_code", ""))
                )
            self.after_commit()
            return
        async with in_transaction():
            await contact.contact_way_failed(row.id, error=error)
        self.after_commit()

    # -- mass-send tasks: at most once -------------------------------------------------------------------

    async def _mass_send(self, row: CustomerMessage) -> None:
        sender = await row.sender
        body = {
            "chat_type": "single",
            "external_userid": [row.external_userid],
            "sender": sender.userid,
            "text": {"content": row.text},
        }
        try:
            answer = await self.client.add_msg_template(body)
        except WeComRetryable as exc:
            if not exc.reached:
                await CustomerMessage.filter(id=row.id).update(
                    call_state=CallState.QUEUED,
                    locked_until=None,
                    next_attempt_at=utcnow() + self.retry,
                    last_error=str(exc)[:500],
                )
                return
            async with in_transaction():
                await contact.mass_send_failed(row.id, error=str(exc), unknown=True)
        except WeComError as exc:
            async with in_transaction():
                await contact.mass_send_failed(row.id, error=f"{exc.errcode} {exc.errmsg}", unknown=False)
        else:
            refused = row.external_userid in [str(e) for e in answer.get("fail_list") or []]
            async with in_transaction():
                await contact.mass_send_done(row.id, msgid=str(answer.get("msgid", "")), refused=refused)
        self.after_commit()

    # -- SMS: at most once -----------------------------------------------------------------------------

    async def _sms(self, row: SmsMessage) -> None:
        config = runtime().config.sms
        template_id = config.templates.get(row.template, "")
        if self.sms is None or not template_id:
            await SmsMessage.filter(id=row.id).update(
                state=CallState.FAILED, locked_until=None, last_error="短信未配置或模板未配置"
            )
            return
        phone = runtime().vault.decrypt(row.phone_encrypted)
        params = [row.params[k] for k in sorted(row.params, key=_param_order)]
        result = await self.sms.send(phone=phone, template_id=template_id, params=params)
        error = f"{result.code} {result.detail}".strip()[:500]
        if result.outcome is Outcome.SENT:
            await SmsMessage.filter(id=row.id).update(
                state=CallState.DONE,
                locked_until=None,
                sent_at=utcnow(),
                provider_serial=result.serial[:128],
                last_error="",
            )
        elif result.outcome is Outcome.RETRY and row.attempts < config.max_attempts:
            delay = self.sms_retry * (2 ** (row.attempts - 1))
            await SmsMessage.filter(id=row.id).update(
                state=CallState.QUEUED, locked_until=None, next_attempt_at=utcnow() + delay, last_error=error
            )
        elif result.outcome is Outcome.UNKNOWN:
            await SmsMessage.filter(id=row.id).update(state=CallState.UNKNOWN, locked_until=None, last_error=error)
        else:
            await SmsMessage.filter(id=row.id).update(state=CallState.FAILED, locked_until=None, last_error=error)
        if result.outcome is not Outcome.SENT:
            log.warning("sms %s (%s): %s %s", row.id, row.purpose, result.outcome.value, result.code)


def _param_order(key: str) -> tuple[int, str]:
    return (int(key), "") if key.isdigit() else (10**6, key)
