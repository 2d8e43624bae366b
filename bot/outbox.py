"""The outbox: every message the bot sends is a row written with the change that caused it, then delivered.

Delivery is at-least-once at the transport and made once by WeCom's own checks. Every send asks for
WeCom's duplicate check (90236), which drops "the same request JSON" sent again within the interval; so
a row's request is the same bytes on every attempt: the flag is there from the first, a chart is
uploaded once and its media_id kept on the row, and the JSON is written canonically. What must arrive
twice must differ: a text sent again on purpose within the interval gets an invisible mark. A card's
task_id is used once besides (a re-send after a lost answer may also get 42014: it was delivered).

WeCom drops, silently, what a member receives beyond 30 a minute or 1000 an hour (90454): every send
first reserves a slot for each recipient (bot/pacing.py), and a row that does not fit waits its turn,
answers before notices before pushes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from datetime import timedelta
from typing import Any, cast

from tortoise.expressions import F, Q

from bot.client import WeComClient, WeComError, WeComRetryable
from bot.pacing import Allowance, MemoryPacer, Pacer
from infra.delivery import Priority, priority_for
from infra.loop import PollingLoop, backoff
from infra.metrics import OUTBOX_SENT
from infra.runtime import runtime
from infra.timeutil import utcnow
from models import MessageState, OutboxKind, OutboxMessage
from models.lease import Lease, claim

log = logging.getLogger(__name__)

TASK_ID_USED = 42014
ALL_RECIPIENTS_INVALID = 81013
RESPONSE_CODE_INVALID = 60140
# WeCom's longest duplicate-check window (4 h): covers every retry of a message.
RETRY_DUPLICATE_WINDOW = 4 * 3600
# Added to a text the member already got within the window, once per earlier copy: WeCom sees another
# message (under any reading of its check), the member sees the same words.
REPEAT_MARK = "\u200b"
TEXT_LIMIT = 2048  # bytes of a text or markdown message's content
# Re-upload a kept media_id this long after it was made: it lasts 3 days.
MEDIA_KEPT = timedelta(days=2, hours=12)
# WeCom's limits per member (90454), and what sends nobody is waiting for leave free for answers: a burst
# of notices (a busy morning, the demo's seeded history) holds its tail a minute rather than make the
# member wait for the answer to what they just typed. Ten answers a minute is more than a person taps.
MEMBER_LIMIT = Allowance(per_minute=30, per_hour=1000)
ROOM_FOR_ANSWERS = {Priority.ANSWER: (0, 0), Priority.NOTICE: (10, 100), Priority.PUSH: (15, 150)}


def allowance(priority: Priority, limit: Allowance = MEMBER_LIMIT) -> Allowance:
    minute, hour = ROOM_FOR_ANSWERS[priority]
    return Allowance(per_minute=max(1, limit.per_minute - minute), per_hour=max(1, limit.per_hour - hour))


def _content_key(message: dict[str, Any]) -> str:
    msgtype = str(message.get("msgtype", ""))
    if msgtype not in ("text", "markdown"):
        return ""  # a card's task_id and a new upload's media_id already differ every time
    recipients = sorted(str(message.get("touser", "")).split("|"))
    seen = json.dumps([recipients, msgtype, message.get(msgtype)], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(seen.encode()).hexdigest()


def _marked(content: str, repeats: int) -> str:
    mark = REPEAT_MARK * repeats
    room = TEXT_LIMIT - len(mark.encode())
    data = content.encode()
    if len(data) > room:
        content = data[:room].decode(errors="ignore")
    return content + mark


async def enqueue_message(message: dict[str, Any], *, priority: Priority | None = None) -> OutboxMessage:
    """Queue a message/send payload (touser, msgtype, ...). Call inside the caller's transaction."""
    card_task_id = None
    if message.get("msgtype") == "template_card":
        card_task_id = message["template_card"].get("task_id")
    content_key = _content_key(message)
    if content_key:
        # The same words to the same members within the duplicate-check interval: sent on purpose (a
        # member asked twice), so it must not read to WeCom as a retry of the first.
        since = utcnow() - timedelta(seconds=RETRY_DUPLICATE_WINDOW + 60)
        repeats = await OutboxMessage.filter(content_key=content_key, created_at__gte=since).count()
        if repeats:
            msgtype = message["msgtype"]
            body = dict(message[msgtype])
            body["content"] = _marked(str(body.get("content", "")), repeats)
            message = {**message, msgtype: body}
    return await OutboxMessage.create(
        kind=OutboxKind.SEND,
        payload=message,
        card_task_id=card_task_id,
        next_attempt_at=utcnow(),
        priority=int(priority if priority is not None else priority_for(str(message.get("touser", "")))),
        content_key=content_key,
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


class OutboxSender(PollingLoop):
    name = "outbox"

    def __init__(
        self,
        client: WeComClient,
        *,
        max_attempts: int,
        max_backoff: float,
        poll: float = 0.5,
        lease: timedelta = timedelta(seconds=10),
        pacer: Pacer | None = None,
        member_limit: Allowance = MEMBER_LIMIT,
        concurrency: int = 8,
    ) -> None:
        super().__init__(poll=poll)
        self._slots = asyncio.Semaphore(concurrency)
        self.lease = lease
        self.pacer = pacer or MemoryPacer()
        self.member_limit = member_limit
        self.client = client
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff

    async def run_due(self) -> bool:
        return await self.deliver_due()

    async def deliver_due(self, limit: int = 50) -> bool:
        """Deliver what is due now; True if anything was attempted.

        Rows for different members go out side by side (`concurrency` at a time); the rows that share a
        recipient form one lane, sent one after another in their order (priority, then age), so each
        member still gets their messages in order and the pacer sees them one at a time."""
        now = utcnow()
        due = (
            await OutboxMessage.filter(state=MessageState.PENDING, next_attempt_at__lte=now)
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
            .order_by("priority", "id")
            .limit(limit)
            .values_list("id", "kind", "payload")
        )
        lanes = _lanes([(cast(int, row_id), _recipients(OutboxKind(kind), payload)) for row_id, kind, payload in due])
        results = await asyncio.gather(*(self._deliver_lane(lane) for lane in lanes), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result  # every other lane has finished: the pass fails as a whole, as before
        return any(results)

    async def _deliver_lane(self, row_ids: list[int]) -> bool:
        attempted = False
        async with self._slots:
            for row_id in row_ids:
                row = await self._claim(row_id)
                if row is not None:
                    attempted = True
                    await self._deliver(row)
        return attempted

    async def _claim(self, row_id: int) -> OutboxMessage | None:
        return await claim(OutboxMessage, row_id, pending=MessageState.PENDING.value, lease=self.lease)

    async def _deliver(self, row: OutboxMessage) -> None:
        if row.kind == OutboxKind.SEND:
            wait = await self.pacer.reserve(_members(row.payload), allowance(Priority(row.priority), self.member_limit))
            if wait > 0:
                await self._wait_turn(row, wait)
                return
        assert row.locked_until is not None
        async with Lease(OutboxMessage, row.id, row.locked_until, self.lease):
            await self._attempt(row)

    async def _wait_turn(self, row: OutboxMessage, wait: float) -> None:
        # Not an attempt: the row goes back as it was, due when its recipients have room again.
        log.info("outbox %s: a recipient is at WeCom's limit; sending in %.1f s", row.id, wait)
        await OutboxMessage.filter(id=row.id).update(
            next_attempt_at=utcnow() + timedelta(seconds=wait), locked_until=None, attempts=F("attempts") - 1
        )
        self.due_in(wait)
        OUTBOX_SENT.labels(row.kind.value, "paced").inc()

    async def _attempt(self, row: OutboxMessage) -> None:
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
            message["image"] = {"media_id": await self._media_id(row, str(image["relay_file"]))}
        # From the first attempt, so a retry is byte for byte the request WeCom may already have.
        message["enable_duplicate_check"] = 1
        message["duplicate_check_interval"] = RETRY_DUPLICATE_WINDOW
        return await self.client.send_message(message)

    async def _media_id(self, row: OutboxMessage, relay_file: str) -> str:
        """A chart or photo Relay stored, uploaded when first sent (media ids last 3 days, so never
        earlier) and kept on the row: a retry sends the very same media_id."""
        if row.media_id and row.media_uploaded_at and row.media_uploaded_at > utcnow() - MEDIA_KEPT:
            return row.media_id
        data = await runtime().files.read(relay_file)
        media_id = await self.client.upload_media("image", "chart.png", data, "image/png")
        # Kept before the send: should this process die after sending, the next attempt repeats it.
        await OutboxMessage.filter(id=row.id).update(media_id=media_id, media_uploaded_at=utcnow())
        return media_id

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
        delay = backoff(row.attempts, self.max_backoff)
        if rate_limited:
            delay = max(delay, 60.0)  # WeCom locks a minute limit for 60 s (90454)
        log.info("outbox %s: %s; retry in %.0f s", row.id, error, delay)
        await OutboxMessage.filter(id=row.id).update(
            next_attempt_at=utcnow() + timedelta(seconds=delay), locked_until=None, last_error=error[:2000]
        )
        self.due_in(delay)
        OUTBOX_SENT.labels(row.kind.value, "retry").inc()

    async def _fail(self, row: OutboxMessage, error: str) -> None:
        log.error("outbox %s failed: %s", row.id, error)
        await OutboxMessage.filter(id=row.id).update(
            state=MessageState.FAILED, locked_until=None, last_error=error[:2000]
        )
        OUTBOX_SENT.labels(row.kind.value, "failed").inc()


def _members(payload: dict[str, Any]) -> list[str]:
    return [u for u in str(payload.get("touser", "")).split("|") if u and u != "@all"]


def _recipients(kind: OutboxKind, payload: dict[str, Any]) -> list[str]:
    """Who a row reaches. A row that names nobody (@all, a department) is treated as reaching everyone."""
    if kind == OutboxKind.UPDATE_CARD:
        members = [str(u) for u in payload.get("userids") or []]
    else:
        members = _members(payload)
        if "@all" in str(payload.get("touser", "")) or payload.get("toparty") or payload.get("totag"):
            members = []
    return members or ["@all"]


def _lanes(rows: list[tuple[int, list[str]]]) -> list[list[int]]:
    """Rows (in delivery order) grouped so that rows sharing a recipient are in one lane, in that order."""
    lane_of: dict[str, int] = {}  # recipient -> lane number
    lanes: dict[int, list[tuple[int, int]]] = {}  # lane number -> (position, row id)
    everyone: int | None = None  # the lane of rows that reach everyone: every later row joins it
    for position, (row_id, members) in enumerate(rows):
        if members == ["@all"]:
            touched = set(lanes)
        else:
            touched = {lane_of[m] for m in members if m in lane_of}
            if everyone is not None:
                touched.add(everyone)
        lane = min(touched) if touched else position
        merged = lanes.setdefault(lane, [])
        for other in touched - {lane}:
            merged += lanes.pop(other)
        merged.append((position, row_id))
        for member, number in list(lane_of.items()):
            if number in touched:
                lane_of[member] = lane
        for member in members:
            lane_of[member] = lane
        if members == ["@all"] or (everyone is not None and everyone in touched):
            everyone = lane
    return [[row_id for _, row_id in sorted(lane)] for _, lane in sorted(lanes.items())]


class _NotReady(Exception):
    pass
