"""The morning card: each measurer and installer with visits to customers today (an order's job or a
service ticket's visit) gets them, once a day.

Like the managers' daily push (workflow/stats_push.py): one job for the day adds one job per field worker,
keyed by day and worker, so any number of processes planning or running them send each card once. The
card is the worker's queue (workflow/queue.py) narrowed to today's visits.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cards.manager import morning_card
from infra.runtime import runtime
from infra.timeutil import local_today, utcnow
from models import Staff, Task, Ticket
from models.enums import OPEN_TASK_STATES
from models.flows import FLOWS
from workflow import notify
from workflow.jobs import schedule
from workflow.queue import appointments_today
from workflow.selectors import TICKET_VISIT_STATES

MORNING = "morning_tasks"
WORKER_MORNING = "morning_tasks_worker"


async def morning_push(payload: dict[str, Any]) -> None:
    """One job per worker with a visit today; running this again adds none."""
    day = payload.get("date") or local_today().isoformat()
    on = date.fromisoformat(day)
    worker_ids = await Task.filter(
        kind__in=list(FLOWS), scheduled_date=on, state__in=list(OPEN_TASK_STATES), superseded=False
    ).values_list("assignee_id", flat=True)
    worker_ids += await Ticket.filter(scheduled_date=on, state__in=TICKET_VISIT_STATES).values_list(
        "assignee_id", flat=True
    )
    for worker in await Staff.filter(id__in=list(set(worker_ids)), active=True).order_by("id"):
        await schedule(
            WORKER_MORNING, f"{WORKER_MORNING}:{day}:{worker.userid}", utcnow(), {"date": day, "worker": worker.userid}
        )


async def worker_morning(payload: dict[str, Any]) -> None:
    worker = await Staff.get_or_none(userid=payload["worker"], active=True)
    if worker is None or payload["date"] != local_today().isoformat():
        return  # gone since, or a day late: yesterday's visits are no news
    items = await appointments_today(worker)
    if items:
        await notify.send(morning_card(worker.userid, worker.id, items, links=runtime().links))
