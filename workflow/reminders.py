"""Reminders (提醒): the day before an appointment, a task nobody accepted, the maintenance cycle.

Each is a scheduled job row written with the change that makes it due; when it runs it checks the
task or order is still as it was, so a rescheduled or reassigned task is not reminded twice.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from infra.runtime import runtime
from infra.timeutil import LOCAL_TZ, fmt_time, local_moment, utcnow
from models import Job, Order, OrderState, Staff, Task, TaskState, Visit
from workflow import notify
from workflow.aftersales import MAINTENANCE, add_months
from workflow.jobs import schedule
from workflow.selectors import order_view

APPOINTMENT = "appointment_reminder"
NUDGE = "accept_nudge"
ESCALATE = "accept_escalate"


async def schedule_task_jobs(task: Task, *, assigned: bool) -> None:
    """The reminders a task needs: the appointment's after any change, and, when it was just
    (re)assigned, the nudge and escalation if nobody accepts it."""
    config = runtime().config.schedule
    reminder_at = local_moment(task.scheduled_date - timedelta(days=1), time(config.reminder_hour))
    if task.scheduled_date > datetime.now(LOCAL_TZ).date():
        # Dispatched for tomorrow after the reminder hour: remind now rather than never.
        await schedule(
            APPOINTMENT,
            f"{APPOINTMENT}:{task.id}:{task.assignee_id}:{task.scheduled_date}",
            max(reminder_at, utcnow()),
            {"task_id": task.id, "assignee_id": task.assignee_id, "date": task.scheduled_date.isoformat()},
        )
    if assigned and task.state == TaskState.ASSIGNED:
        now = utcnow()
        payload = {"task_id": task.id, "assignee_id": task.assignee_id}
        stamp = f"{task.id}:{task.assignee_id}:{int(now.timestamp())}"
        await schedule(NUDGE, f"{NUDGE}:{stamp}", now + timedelta(hours=config.accept_nudge_hours), payload)
        await schedule(ESCALATE, f"{ESCALATE}:{stamp}", now + timedelta(hours=config.accept_escalate_hours), payload)


async def _still(payload: dict[str, Any], *states: TaskState) -> Task | None:
    task = await Task.get_or_none(id=payload["task_id"], assignee_id=payload["assignee_id"], state__in=list(states))
    return task


async def appointment_reminder(payload: dict[str, Any]) -> None:
    task = await _still(payload, TaskState.ASSIGNED, TaskState.ACCEPTED)
    if task is None or task.scheduled_date.isoformat() != payload["date"]:
        return  # done, cancelled, reassigned or moved: the new assignment has its own reminder
    await notify.appointment_tomorrow(task)


async def accept_nudge(payload: dict[str, Any]) -> None:
    task = await _still(payload, TaskState.ASSIGNED)
    if task is None:
        return
    await notify.not_accepted_yet(task, hours=runtime().config.schedule.accept_nudge_hours)


async def accept_escalate(payload: dict[str, Any]) -> None:
    task = await _still(payload, TaskState.ASSIGNED)
    if task is None or task.assigned_by_id is None:
        return
    dispatcher = await Staff.get(id=task.assigned_by_id)
    await notify.still_not_accepted(task, dispatcher, hours=runtime().config.schedule.accept_escalate_hours)


async def maintenance_reminder(payload: dict[str, Any]) -> None:
    """A 保养 ticket for after-sales to book, its card with the customer's history; the next cycle is
    scheduled at once."""
    order = await Order.get_or_none(id=payload["order_id"])
    if order is None or order.state == OrderState.CANCELLED:
        return
    view = await order_view(order, with_timeline=True)
    customer_orders = await Order.filter(customer_id=order.customer_id).order_by("id").values_list("number", "state")
    history = [f"订单 {n}（{OrderState(s).label}）" for n, s in customer_orders]
    for visit in await Visit.filter(order__customer_id=order.customer_id).order_by("id"):
        history.append(
            f"{fmt_time(visit.created_at)} 回访：{'已接通' if visit.reached else '未接通'} {visit.notes[:30]}"
        )
    history += view.timeline[-2:]
    from workflow.tickets import open_for_maintenance

    await open_for_maintenance(
        order,
        series=payload["series"],
        months=int(payload["months"]),
        cycle=int(payload.get("cycle", 1)),
        history=history,
    )
    cycle = int(payload.get("cycle", 1)) + 1
    job = await Job.get_or_none(key=f"{MAINTENANCE}:{order.id}:{payload['series']}:{cycle - 1}")
    since = job.due_at if job else utcnow()
    due = add_months(since, int(payload["months"]))
    # A cycle long past (an order scheduled late, a worker down for months) is not made up: the next one
    # comes at its turn in the future, so the customer gets one maintenance ticket, not several at once.
    while due < utcnow():
        cycle += 1
        due = add_months(due, int(payload["months"]))
    await schedule(
        MAINTENANCE,
        f"{MAINTENANCE}:{order.id}:{payload['series']}:{cycle}",
        due,
        {**payload, "cycle": cycle},
    )
