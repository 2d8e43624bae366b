"""Adding scheduled work: a row in the `job` table, written in the caller's transaction.

The business rules add jobs (reminders) and so does the scheduler's planner (the recurring ones);
`scheduler.jobs` claims and runs them. Kept here, below the scheduler, so the rules never import it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Job


async def schedule(kind: str, key: str, due_at: datetime, payload: dict[str, Any] | None = None) -> Job | None:
    """Add a job unless one with this key exists (idempotent). Inside the caller's transaction."""
    existing = await Job.get_or_none(key=key)
    if existing is not None:
        return existing
    try:
        async with in_transaction():
            return await Job.create(kind=kind, key=key, due_at=due_at, payload=payload or {})
    except IntegrityError:
        return await Job.get_or_none(key=key)  # another worker added it first


T = TypeVar("T")


@dataclass(frozen=True)
class Staged(Generic[T]):
    """A job in two steps: `prepare` (reads, rendering, files; no writes) before the transaction, then
    `apply` with its result inside it. A retry prepares again, so prepare must be safe to repeat."""

    prepare: Callable[[dict[str, Any]], Awaitable[T]]
    apply: Callable[[dict[str, Any], T], Awaitable[None]]
