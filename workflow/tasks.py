"""Field jobs (measuring, installing): suggest, dispatch, accept or decline, reschedule, reassign, transfer.

Every function checks role, scope and current state, changes the rows with a conditional update
(two people tapping at once: one wins, the other is told who), writes the order's timeline and
queues the notifications in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tortoise.transactions import in_transaction

from infra.runtime import runtime
from infra.timeutil import local_today
from models import Order, OrderEvent, Staff, Task, TaskKind, TaskState
from models.enums import OPEN_TASK_STATES
from models.flows import FLOWS, MEASURE, TaskFlow
from workflow import notify
from workflow.chat import PHOTOS, chat
from workflow.customer_requests import settle_for_rescheduled
from workflow.errors import Conflict, Invalid, NotAllowed, NotFound
from workflow.lifecycle import Transition, apply, members_for
from workflow.order_lifecycle import ORDER, job
from workflow.reminders import schedule_task_jobs
from workflow.scope import staff_within
from workflow.selectors import tasks_on


@dataclass(frozen=True)
class Suggestion:
    staff: Staff
    day: date
    tasks_that_day: int


async def team_for(flow: TaskFlow, actor: Staff, task: Task | None = None) -> list[Staff]:
    """Whom a member may give this job to: a dispatcher, their own team; a worker passing the job
    on, the team of the dispatcher who gave it to them. The pages offer exactly these."""
    if task is not None and task.assignee_id == actor.id and task.assigned_by_id:
        dispatcher = await Staff.get_or_none(id=task.assigned_by_id)
        if dispatcher is not None:
            return await staff_within(dispatcher.org_unit_id, flow.worker_role)
    return await staff_within(actor.org_unit_id, flow.worker_role)


async def rank_workers(flow: TaskFlow, *, dispatcher: Staff, day: date) -> list[Suggestion]:
    """Free that day first, then fewest tasks that day, then best after-sales score."""
    candidates = await team_for(flow, dispatcher)
    counts = await tasks_on([c.id for c in candidates], day)
    ranked = [Suggestion(c, day, counts.get(c.id, 0)) for c in candidates]
    ranked.sort(key=lambda s: (s.tasks_that_day > 0, s.tasks_that_day, -(s.staff.score or 0.0), s.staff.name))
    limit = runtime().config.schedule.daily_task_limit
    return [s for s in ranked if s.tasks_that_day < limit] or ranked


async def notify_dispatchers(flow: TaskFlow, order: Order, *, reason: str = "", note: str = "") -> None:
    dispatchers = await members_for(job(flow.kind, "dispatch"), order)
    if not dispatchers:
        return
    wanted = order.expected_measure_date if flow is MEASURE else None
    day = max(wanted or local_today(), local_today())
    ranked = await rank_workers(flow, dispatcher=dispatchers[0], day=day)
    best = ranked[0] if ranked else None
    suggestion = (best.staff.id, best.staff.name, best.day) if best else None
    await notify.order_ready(flow, order, dispatchers, suggestion=suggestion, reason=reason, note=note)


async def _dispatch_conflict(flow: TaskFlow, order: Order) -> Conflict:
    event = (
        await OrderEvent.filter(order_id=order.id, kind=job(flow.kind, "dispatch").event)
        .order_by("-id")
        .prefetch_related("actor")
        .first()
    )
    if order.state != flow.scheduled_state or event is None or event.actor is None:
        return Conflict(f"订单 {order.number} 当前状态：{order.state.label}", order.state.label)
    return Conflict(
        f"订单 {order.number} 已由 {event.actor.name} 派给 {event.payload.get('worker', '')}",
        f"已由{event.actor.name}派单",
    )


async def _check_worker(flow: TaskFlow, actor: Staff, worker_id: int, task: Task | None = None) -> Staff:
    worker = await Staff.get_or_none(id=worker_id, active=True)
    if worker is None or not worker.has_role(flow.worker_role):
        raise Invalid(f"所选人员不是{flow.worker_role.label}人员", "worker")
    if worker.id not in {w.id for w in await team_for(flow, actor, task)}:
        raise NotAllowed(f"{worker.name} 不在你负责的团队中")
    return worker


def _check_day(day: date) -> None:
    if day < local_today():
        raise Invalid("日期不能早于今天", "date")


async def dispatch_task(*, actor: Staff, order: Order, kind: TaskKind, worker_id: int, day: date) -> Task:
    """Assign the job. Of two dispatchers tapping at once, one wins; the other is told who did."""
    flow, step = FLOWS[kind], job(kind, "dispatch")
    try:
        await ORDER.check(step, actor, order)
    except Conflict:
        raise await _dispatch_conflict(flow, order) from None
    _check_day(day)
    worker = await _check_worker(flow, actor, worker_id)
    async with in_transaction():
        try:
            await apply(step, actor=actor, order=order, event={"worker": worker.name, "date": day.isoformat()})
        except Conflict:
            raise await _dispatch_conflict(flow, order) from None
        task = await Task.create(order=order, kind=flow.kind, assignee=worker, assigned_by=actor, scheduled_date=day)
        await schedule_task_jobs(task, assigned=True)
        await notify.dispatched(flow, order, task, worker=worker, by=actor, day=day)
    return task


async def field_task(task_id: int) -> tuple[TaskFlow, Task, Order]:
    """A measuring or installing job by id, with its flow and order."""
    task = await Task.get_or_none(id=task_id)
    if task is None or task.kind not in FLOWS:
        raise NotFound("任务不存在")
    return FLOWS[task.kind], task, await Order.get(id=task.order_id)


async def answer_task(*, actor: Staff, task_id: int, accept: bool, reason: str = "") -> Task:
    flow, task, order = await field_task(task_id)
    step = job(flow.kind, "accept" if accept else "decline")
    await ORDER.check(step, actor, order, task=task)
    async with in_transaction():
        if accept:
            await apply(step, actor=actor, order=order, task=task)
            await chat().set(PHOTOS, actor.userid, task.id)
            await notify.job_accepted(flow, task, actor)
        else:
            await apply(
                step,
                actor=actor,
                order=order,
                task=task,
                task_values={"decline_reason": reason[:255]},
                event={"reason": reason or "未说明"},
            )
            await notify_dispatchers(
                flow,
                order,
                reason=f"{flow.kind.label}被拒，请重新派单",
                note=f"{actor.name} 拒单：{reason or '未说明原因'}",
            )
    return task


async def return_task(*, task: Task, worker: Staff) -> bool:
    """The worker left the company: the job goes back to be dispatched again and the dispatchers get the
    card a decline gives them. Inside the caller's transaction; False when the order has moved on (the
    job is no longer the open one), so nothing is changed."""
    flow, _, order = await field_task(task.id)
    step = job(flow.kind, "return")
    if order.state not in step.source or task.state not in OPEN_TASK_STATES:
        return False
    await apply(step, actor=None, order=order, task=task, event={"worker": worker.name})
    await notify_dispatchers(
        flow, order, reason=f"{flow.kind.label}人员离职，请重新派单", note=f"{worker.name} 已离职，任务退回"
    )
    return True


async def reschedule_task(*, actor: Staff, task_id: int, day: date, reason: str = "") -> Task:
    """A new date agreed with the customer: the worker and sales are told."""
    flow, task, order = await field_task(task_id)
    step = job(flow.kind, "reschedule")
    await ORDER.check(step, actor, order, task=task)
    _check_day(day)
    if day == task.scheduled_date:
        raise Invalid("新日期与原日期相同", "date")
    async with in_transaction():
        old = task.scheduled_date
        await apply(
            step,
            actor=actor,
            order=order,
            task=task,
            task_values={"scheduled_date": day},
            event={"old": old.isoformat(), "date": day.isoformat(), "reason": reason},
        )
        await schedule_task_jobs(task, assigned=False)
        await notify.job_rescheduled(flow, task, order, old=old, day=day, reason=reason)
        await settle_for_rescheduled(task, actor, day)  # the customer's request about it, if any
    return task


async def reassign_task(*, actor: Staff, task_id: int, worker_id: int, reason: str = "") -> Task:
    """The dispatcher gives the job to someone else; the old assignee is told it was taken away."""
    flow, task, order = await field_task(task_id)
    step = job(flow.kind, "reassign")
    await ORDER.check(step, actor, order, task=task)
    worker = await _check_worker(flow, actor, worker_id, task)
    if worker.id == task.assignee_id:
        raise Invalid(f"任务已经是 {worker.name} 的", "worker")
    return await _hand_over(step, flow, task, order, actor=actor, to=worker, reason=reason)


async def transfer_task(*, actor: Staff, task_id: int, colleague_id: int, reason: str = "") -> Task:
    """The assignee passes the job to a colleague of the same role in the same team."""
    flow, task, order = await field_task(task_id)
    step = job(flow.kind, "transfer")
    await ORDER.check(step, actor, order, task=task)
    colleague = await Staff.get_or_none(id=colleague_id, active=True)
    if colleague is None or not colleague.has_role(flow.worker_role) or colleague.id == actor.id:
        raise Invalid(f"请选择另一位{flow.worker_role.label}人员", "worker")
    if colleague.id not in {w.id for w in await team_for(flow, actor, task)}:
        raise NotAllowed(f"{colleague.name} 不在同一个团队中")
    return await _hand_over(step, flow, task, order, actor=actor, to=colleague, reason=reason)


async def _hand_over(
    step: Transition, flow: TaskFlow, task: Task, order: Order, *, actor: Staff, to: Staff, reason: str
) -> Task:
    transferred = step.name.startswith("transfer")
    async with in_transaction():
        previous = await Staff.get(id=task.assignee_id)
        await apply(
            step,
            actor=actor,
            order=order,
            task=task,
            task_values={"assignee_id": to.id},
            event={"worker": to.name, "previous": previous.name, "reason": reason},
        )
        await schedule_task_jobs(task, assigned=True)  # the new assignee's reminders; the old ones lapse
        await notify.job_handed_over(
            flow, task, order, by=actor, previous=previous, to=to, transferred=transferred, reason=reason
        )
        await chat().clear(PHOTOS, previous.userid, only=task.id)
    return task


# The transition a photo sent in the chat performs, per kind of job.
PHOTO_STEPS = {TaskKind.MEASURE: "add_site_photo", TaskKind.INSTALL: "add_install_photo"}


async def send_photos_to(*, actor: Staff, task_id: int) -> tuple[Task, Order]:
    """The member's next photos go to this job ("照片归入此单"), if they may add photos to it now."""
    _, task, order = await field_task(task_id)
    await ORDER.check(ORDER[PHOTO_STEPS[task.kind]], actor, order, task=task)
    await chat().set(PHOTOS, actor.userid, task.id)
    return task, order


async def follow_order(actor: Staff, order: Order) -> Task | None:
    """A worker who looks an order up is about to send its photos: their accepted job on it, remembered."""
    task = await Task.filter(
        order_id=order.id,
        assignee_id=actor.id,
        kind__in=[TaskKind.MEASURE, TaskKind.INSTALL],
        state=TaskState.ACCEPTED,
    ).first()
    if task is not None:
        await chat().set(PHOTOS, actor.userid, task.id)
    return task
