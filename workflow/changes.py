"""Changing course: cancel an order (and undo it for a while), measure it again. (Reschedule,
reassign, transfer and decline are in tasks.)"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models import EventKind, Order, OrderEvent, OrderState, Staff, Task, TaskKind, TaskState
from models.enums import OPEN_TASK_STATES
from models.flows import FLOWS, INSTALL, MEASURE
from workflow import notify
from workflow.chat import PHOTOS, chat
from workflow.errors import Invalid
from workflow.lifecycle import apply, members_for
from workflow.order_lifecycle import ORDER
from workflow.tasks import notify_dispatchers


async def cancel_order(*, actor: Staff, order: Order, reason: str) -> Order:
    """Cancel from any open state: open tasks are cancelled and everyone on them is told."""
    step = ORDER["cancel"]
    await ORDER.check(step, actor, order)
    reason = reason.strip()
    if not reason:
        raise Invalid("请填写取消原因", "reason")
    async with in_transaction():
        tasks = await Task.filter(order_id=order.id, state__in=list(OPEN_TASK_STATES)).prefetch_related("assignee")
        # The jobs it stops, and where they stood, go with the event: an undo puts them back.
        stopped = {str(t.id): t.state.value for t in tasks}
        await apply(
            step,
            actor=actor,
            order=order,
            event={"reason": reason, "tasks": stopped},
            cancel_reason=reason[:255],
            cancelled_from=order.state,
        )
        await Task.filter(id__in=[t.id for t in tasks], state__in=list(OPEN_TASK_STATES)).update(
            state=TaskState.CANCELLED
        )
        told = {t.assignee.userid for t in tasks if t.assignee is not None}
        told.add((await Staff.get(id=order.sales_id)).userid)
        told.discard(actor.userid)
        for t in tasks:
            if t.assignee is not None:
                await chat().clear(PHOTOS, t.assignee.userid, only=t.id)
        await notify.cancelled(order, by=actor, reason=reason, told=sorted(told))
    return order


async def undo_cancel(*, actor: Staff, order: Order) -> Order:
    """Put a cancelled order back where it was, within schedule.cancel_undo_minutes: the jobs the
    cancel stopped are open again, their cards sent again, and everyone told of the cancel hears."""
    step = ORDER["undo_cancel"]
    await ORDER.check(step, actor, order)
    async with in_transaction():
        cancel = await OrderEvent.filter(order_id=order.id, kind=EventKind.CANCELLED).order_by("-id").first()
        stopped: dict[str, str] = dict(cancel.payload.get("tasks", {})) if cancel else {}
        back = order.cancelled_from
        assert back is not None  # the table's guard: a cancel that can be undone knows where it came from
        await apply(
            step,
            actor=actor,
            order=order,
            event={"state": back.label},
            cancel_reason="",
            cancelled_at=None,
            cancelled_from=None,
        )
        restored: list[Task] = []
        for task_id, state in stopped.items():
            if await Task.filter(id=int(task_id), state=TaskState.CANCELLED).update(state=TaskState(state)):
                restored.append(await Task.get(id=int(task_id)))
        told = {(await Staff.get(id=order.sales_id)).userid}
        for task in restored:
            if task.assignee_id is not None:
                assignee = await Staff.get(id=task.assignee_id)
                told.discard(assignee.userid)  # they get their job's card again, which says enough
                await notify.job_restored(FLOWS[task.kind], task, assignee)
        told.discard(actor.userid)
        # An order back where it waits for a dispatcher is offered to the dispatchers again.
        ready = {OrderState.CREATED: MEASURE, OrderState.IN_STOCK: INSTALL}.get(order.state)
        if ready is not None and not restored:
            await notify_dispatchers(ready, order, reason="订单已恢复", note=f"{actor.name} 撤销了取消")
        await notify.cancel_undone(order, by=actor, told=sorted(told))
    return order


async def request_remeasure(*, actor: Staff, order: Order, reason: str) -> Order:
    """Measure again: the earlier measuring is kept and shown as superseded; dispatch starts over."""
    step = ORDER["remeasure"]
    await ORDER.check(step, actor, order)
    reason = reason.strip()
    if not reason:
        raise Invalid("请填写重新测量的原因", "reason")
    async with in_transaction():
        await apply(step, actor=actor, order=order, event={"reason": reason})
        await Task.filter(order_id=order.id, kind=TaskKind.MEASURE, superseded=False).update(superseded=True)
        await notify_dispatchers(MEASURE, order, reason="需要重新测量", note=f"{actor.name}：{reason}")
        await notify.remeasure(order, await members_for(ORDER["finish_design"], order), by=actor, reason=reason)
    return order
