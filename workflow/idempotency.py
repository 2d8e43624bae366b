"""Idempotency keys for API writes (`Idempotency-Key`): a retried write is applied once.

The key's row is written in the same transaction as the write and holds the answer it got, so either
both commit or neither does: a retry after a lost answer finds the row and gets the stored answer (the
same status and body), a retry after a crash finds nothing and applies the write. The same key with a
different request is refused (422). Two requests with the same key at once: the second one's insert
waits on the first one's uncommitted row (PostgreSQL's unique index; SQLite's single writer), then
finds it and replays its answer. Keys are per token and kept `api.idempotency_hours`; the nightly
retention job deletes the expired ones.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from infra.errors import UserError
from infra.runtime import runtime
from infra.timeutil import utcnow
from models import IdempotencyKey, ServiceToken

MAX_KEY = 255


class KeyReused(UserError):
    """The key was used for another request (another body, path or method)."""

    status = 422


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


KEY_RE = re.compile(rf"[!-~]{{1,{MAX_KEY}}}")  # visible ASCII, no spaces: as the OpenAPI document says


def check_key(key: str) -> str:
    if not KEY_RE.fullmatch(key):
        raise UserError(f"Idempotency-Key 应为 1 到 {MAX_KEY} 个可见 ASCII 字符（不含空格）", "Idempotency-Key")
    return key


async def _stored(token: ServiceToken, key: str, print_: str) -> Answer | None:
    row = await IdempotencyKey.get_or_none(token_id=token.id, key=key, expires_at__gt=utcnow())
    if row is None:
        return None
    if row.fingerprint != print_:
        raise KeyReused("这个 Idempotency-Key 已用于另一个请求（方法、路径或请求体不同），请换一个新的 key")
    return Answer(row.status, row.response, replayed=True)


async def once(*, token: ServiceToken, key: str, print_: str, write: Callable[[], Awaitable[Answer]]) -> Answer:
    """Run `write` once for this token and key. `write` answers refusals itself (a 4xx Answer): they are
    stored and replayed like successes; what it changed before refusing is rolled back."""
    key = check_key(key)
    if (stored := await _stored(token, key, print_)) is not None:
        return stored
    # An expired key may be used again.
    await IdempotencyKey.filter(token_id=token.id, key=key, expires_at__lte=utcnow()).delete()
    hours = runtime().config.api.idempotency_hours
    try:
        async with in_transaction():
            row = await IdempotencyKey.create(
                token_id=token.id,
                key=key,
                fingerprint=print_,
                status=0,
                response={},
                expires_at=utcnow() + timedelta(hours=hours),
            )
            answer = await _rolled_back_if_refused(write)
            row.status, row.response = answer.status, answer.body
            await row.save(update_fields=["status", "response"])
        return answer
    except IntegrityError:
        # Another request with this key committed first: its answer is ours.
        stored = await _stored(token, key, print_)
        if stored is None:
            raise
        return stored


class _Refused(Exception):
    """Leaves the savepoint of a write that answered with a refusal, undoing what it wrote."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer


async def _rolled_back_if_refused(write: Callable[[], Awaitable[Answer]]) -> Answer:
    """The write in a savepoint: a refusal undoes whatever it wrote before refusing."""
    try:
        async with in_transaction():
            answer = await write()
            if answer.status >= 400:
                raise _Refused(answer)
    except _Refused as refused:
        return refused.answer
    return answer


async def purge_expired() -> int:
    """The retention job's part: keys past their time."""
    return await IdempotencyKey.filter(expires_at__lte=utcnow()).delete()
