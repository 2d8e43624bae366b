"""Changing course: cancel an order, measure it again. (Reschedule, reassign, transfer and decline
are in tasks.)"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models import Order, Staff, Task, TaskKind, TaskState
from models.enums import OPEN_TASK_STATES
from models.flows import MEASURE
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
        await apply(step, actor=actor, order=order, event={"reason": reason}, cancel_reason=reason[:255])
        tasks = await Task.filter(order_id=order.id, state__in=list(OPEN_TASK_STATES)).prefetch_related("assignee")
        await Task.filter(id__in=[t.id for t in tasks]).update(state=TaskState.CANCELLED)
        told = {t.assignee.userid for t in tasks if t.assignee is not None}
        told.add((await Staff.get(id=order.sales_id)).userid)
        told.discard(actor.userid)
        for t in tasks:
            if t.assignee is not None:
                await chat().clear(PHOTOS, t.assignee.userid, only=t.id)
        await notify.cancelled(order, by=actor, reason=reason, told=sorted(told))
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
