"""Inbound messages: stored durably before the 200, handled after, each once.

A message is handled inside one transaction together with marking it done, so a crash mid-way
rolls both back and the lease lets another pass (or process) take it again. The lease is short and
renewed while the message is being prepared, so a dead process's message waits seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import weakref
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from tortoise.transactions import in_transaction

from bot.events import Event, dedupe_key, parse_event
from infra.db import db
from infra.delivery import answering
from infra.metrics import HANDLE_SECONDS, INBOX_HANDLED
from infra.timeutil import utcnow
from models import InboxMessage, MessageState
from models.lease import Lease

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5

# prepare runs outside the transaction (downloads, CPU work); handle runs inside it with prepare's result.
Prepare = Callable[[Event], Awaitable[Any]]
Handler = Callable[[Event, Any], Awaitable[None]]
FailureHandler = Callable[[Event, BaseException], Awaitable[None]]


# Every column is given: tortoise fills defaults in Python, the table has none of its own.
_INSERT_COLUMNS = ("dedupe_key", "userid", "msg_type", "payload", "state", "attempts", "last_error", "received_at")


@functools.cache
def _insert_sql(dialect: str, rows: int = 1) -> str:
    """The conditional insert of `rows` messages; it returns the dedupe keys of the rows it stored."""
    width = len(_INSERT_COLUMNS)
    if dialect == "postgres":
        groups = [", ".join(f"${r * width + i}" for i in range(1, width + 1)) for r in range(rows)]
    else:
        groups = [", ".join("?" * width)] * rows
    values = ", ".join(f"({group})" for group in groups)
    return (
        f"INSERT INTO inbox ({', '.join(_INSERT_COLUMNS)}) VALUES {values}"
        " ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key"
    )


@functools.cache
def _claim_sql(dialect: str) -> str:
    # The subquery names the member's oldest pending message; the outer conditions claim it only while no
    # one holds it. Tortoise reads the returned row back into a model.
    p = ["$1", "$2", "$3", "$4", "$5"] if dialect == "postgres" else ["?"] * 5
    return (
        f"UPDATE inbox SET locked_until = {p[0]}, attempts = attempts + 1"
        f" WHERE id = (SELECT id FROM inbox WHERE userid = {p[1]} AND state = {p[2]} ORDER BY id LIMIT 1)"
        f" AND state = {p[3]} AND (locked_until IS NULL OR locked_until < {p[4]}) RETURNING *"
    )


async def store_inbound(raw: dict[str, Any]) -> bool:
    """Store a decrypted callback; False when it is a re-send of one already stored.

    One conditional insert, one round trip: the callback answers WeCom only after it, so at a burst
    the callback's rate is this statement's. A re-send, or the same re-send racing in another
    request, inserts nothing. On SQLite, callbacks that arrive together share the statement
    (`_GroupInsert`)."""
    fields = InboxMessage._meta.fields_map
    values = [
        dedupe_key(raw),
        str(raw.get("FromUserName", "")),
        str(raw.get("MsgType", "")),
        fields["payload"].to_db_value(raw, InboxMessage),
        MessageState.PENDING.value,
        0,
        "",
        fields["received_at"].to_db_value(utcnow(), InboxMessage),
    ]
    conn = db()
    if conn.capabilities.dialect == "sqlite":
        return await _GroupInsert.for_this_loop().store(values)
    return bool(await conn.execute_query_dict(_insert_sql(conn.capabilities.dialect), values))


async def _insert_many(rows: list[list[Any]]) -> set[str]:
    conn = db()
    flat = [value for row in rows for value in row]
    stored = await conn.execute_query_dict(_insert_sql(conn.capabilities.dialect, len(rows)), flat)
    return {row["dedupe_key"] for row in stored}


class _GroupInsert:
    """Group commit for SQLite's one connection. Statements on it go one at a time, and between two the
    connection's thread waits for the event loop to hand it the next; at a burst of callbacks that wait,
    not the insert, set the rate (64 % of a minimal handler's at 50 at once). Here the callbacks that
    arrive while one statement runs are stored together by the next: one statement and one commit for
    all of them, each callback answered once its row is in (never before: WeCom re-sends what was not
    answered, and the answer promises the message is kept)."""

    MAX_ROWS = 200  # 8 values a row, well under SQLite's 32,766 variables in a statement

    _per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _GroupInsert] = weakref.WeakKeyDictionary()

    def __init__(self) -> None:
        self._waiting: list[tuple[list[Any], asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[Any] | None = None  # the task whose statement is in flight

    @classmethod
    def for_this_loop(cls) -> _GroupInsert:
        loop = asyncio.get_running_loop()
        group = cls._per_loop.get(loop)
        if group is None:
            group = cls._per_loop[loop] = cls()
        return group

    async def store(self, values: list[Any]) -> bool:
        if self._writer is None:  # nothing in flight: this one goes alone, and the next ones wait for it
            self._writer = asyncio.current_task()
            try:
                return values[0] in await _insert_many([values])
            finally:
                self._writer = asyncio.create_task(self._write()) if self._waiting else None
        stored: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((values, stored))
        return await stored

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self.MAX_ROWS]
                del self._waiting[: self.MAX_ROWS]
                try:
                    new = await _insert_many([values for values, _ in batch])
                except Exception as exc:  # every callback of the batch answers the error (a 500: WeCom re-sends)
                    for _, stored in batch:
                        if not stored.done():
                            stored.set_exception(exc)
                    continue
                for values, stored in batch:
                    key = values[0]
                    if not stored.done():
                        # The same message twice in one batch (a re-send racing its first): the first is new.
                        stored.set_result(key in new)
                    new.discard(key)
        finally:
            self._writer = None


class LeaseLost(Exception):
    pass


class InboxProcessor:
    """Handles stored messages: concurrently across members, in arrival order for each member."""

    def __init__(
        self,
        prepare: Prepare,
        handle: Handler,
        on_failure: FailureHandler,
        *,
        after_commit: Callable[[], None] = lambda: None,
        poll: float = 0.5,
        concurrency: int = 8,
        lease: timedelta = timedelta(seconds=10),
        retry: timedelta = timedelta(seconds=2),
    ) -> None:
        self.lease = lease
        self.retry = retry  # the wait before the second try; it doubles for each try after
        self._prepare = prepare
        self._handle = handle
        self._on_failure = on_failure
        self._after_commit = after_commit
        self.poll = poll
        self._wake = asyncio.Event()
        self._busy_users: set[str] = set()
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        try:
            while True:
                self._wake.clear()  # before looking: a wake-up that comes during the pass is kept
                try:
                    started = await self.dispatch_pending()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("inbox pass failed")
                    started = 0
                if not started:
                    # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancel that arrives with a wake-up
                    # (CPython gh-86296), and the loop would then never stop.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.poll):
                            await self._wake.wait()
        finally:
            for task in self._tasks:
                task.cancel()

    async def dispatch_pending(self) -> int:
        """Start a worker for each member with pending messages; how many started.

        A member whose oldest pending message is held (by another process, or backing off after a
        failure) is left alone until that lease ends: their later messages wait, in order, and this
        loop does not spin on them."""
        now = utcnow()
        rows = (
            await InboxMessage.filter(state=MessageState.PENDING)
            .order_by("id")
            .limit(500)
            .values_list("userid", "locked_until")
        )
        oldest: dict[str, Any] = {}
        for userid, locked_until in rows:
            oldest.setdefault(str(userid), locked_until)
        started = 0
        for userid, locked_until in oldest.items():
            if userid in self._busy_users or (locked_until is not None and locked_until >= now):
                continue
            self._busy_users.add(userid)
            task = asyncio.create_task(self._drain_user(userid))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    async def drain(self) -> None:
        """Handle everything pending now (tests, the CLI)."""
        while await self.dispatch_pending() or self._tasks:
            if self._tasks:
                await asyncio.gather(*list(self._tasks))

    async def _drain_user(self, userid: str) -> None:
        try:
            async with self._slots:
                while True:
                    row = await self._claim_next(userid)
                    if row is None:
                        return
                    await self._process(row)
        finally:
            self._busy_users.discard(userid)
            self.wake()

    async def _claim_next(self, userid: str) -> InboxMessage | None:
        """Claim the member's oldest pending message, in one statement; None when there is none, or when
        another process holds it (their later messages then wait: the member's order is kept)."""
        now = utcnow()
        conn = db()
        when = InboxMessage._meta.fields_map["locked_until"]
        rows = await conn.execute_query_dict(
            _claim_sql(conn.capabilities.dialect),
            [
                when.to_db_value(now + self.lease, InboxMessage),
                userid,
                MessageState.PENDING.value,
                MessageState.PENDING.value,
                when.to_db_value(now, InboxMessage),
            ],
        )
        return InboxMessage._init_from_db(**rows[0]) if rows else None

    async def _process(self, row: InboxMessage) -> None:
        try:
            event = parse_event(row.payload)
        except ValueError as exc:
            await self._mark(row, MessageState.FAILED, f"unreadable: {exc}")
            return
        assert row.locked_until is not None
        lease = Lease(InboxMessage, row.id, row.locked_until, self.lease)
        try:
            with HANDLE_SECONDS.time(), answering(row.userid):
                async with lease:
                    prepared = await self._prepare(event)
                async with in_transaction():
                    await self._handle(event, prepared)
                    done = await InboxMessage.filter(
                        id=row.id, state=MessageState.PENDING, locked_until=lease.until
                    ).update(state=MessageState.DONE, processed_at=utcnow(), locked_until=None)
                    if not done:
                        raise LeaseLost
            INBOX_HANDLED.labels("ok").inc()
        except asyncio.CancelledError:
            raise
        except LeaseLost:
            # Another process took it over while this one stalled: its handling counts, ours is rolled back.
            log.warning("inbox %s was taken over; left to the other process", row.id)
            return
        except Exception as exc:
            log.exception("handling inbox %s (%s) failed", row.id, row.dedupe_key)
            if row.attempts >= MAX_ATTEMPTS:
                # Given up and the member told, together: a process that dies in between leaves the message
                # to be tried once more, never failed with nobody told.
                async with in_transaction():
                    await self._mark(row, MessageState.FAILED, repr(exc))
                    await self._on_failure(event, exc)
            else:
                delay = self.retry * 2 ** (row.attempts - 1)
                await InboxMessage.filter(id=row.id).update(locked_until=utcnow() + delay, last_error=repr(exc)[:2000])
                # Tried again when its wait is over, not at the poll after (up to `poll` late).
                asyncio.get_running_loop().call_later(delay.total_seconds(), self.wake)
            INBOX_HANDLED.labels("error").inc()
        self._after_commit()

    async def _mark(self, row: InboxMessage, state: MessageState, error: str) -> None:
        await InboxMessage.filter(id=row.id).update(
            state=state, processed_at=utcnow(), locked_until=None, last_error=error[:2000]
        )
