"""Adding scheduled work: a row in the `job` table, written in the caller's transaction.

The business rules add jobs (reminders) and so does the scheduler's planner (the recurring ones);
`scheduler.jobs` claims and runs them. Kept here, below the scheduler, so the rules never import it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
