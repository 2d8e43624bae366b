"""Changing course: cancel an order, measure it again. (Reschedule, reassign, transfer and decline
are in tasks.)"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from bot.outbox import enqueue_message
from cards.tasks import notice_card
from infra.runtime import runtime
from models import Order, OrderState, Role, Staff, Task, TaskKind, TaskState
from models.enums import OPEN_ORDER_STATES, OPEN_TASK_STATES
from workflow import timeline
from workflow.errors import Conflict, Invalid, NotAllowed
from workflow.flows import MEASURE
from workflow.scope import covers, staff_covering
from workflow.selectors import order_view
from workflow.tasks import chat_task_key, notify_dispatchers
from workflow.transitions import move

CANCELLERS = (Role.SALES, Role.MANAGER, Role.ADMIN)
REMEASURE_STATES = (OrderState.MEASURED, OrderState.DESIGNED)


async def _may_change(actor: Staff, order: Order, roles: tuple[Role, ...]) -> None:
    """Sales may change their own orders; the other roles, the orders in their part of the company."""
    if not any(actor.has_role(r) for r in roles):
        raise NotAllowed("只有" + "、".join(r.label for r in roles) + "可以这样操作")
    if actor.has_role(Role.SALES) and Role.SALES in roles and order.sales_id == actor.id:
        return
    if any(actor.has_role(r) for r in roles if r != Role.SALES) and await covers(actor, order):
        return
    raise NotAllowed(f"订单 {order.number} 不是你负责的订单")


async def cancel_order(*, actor: Staff, order: Order, reason: str) -> Order:
    """Cancel from any open state: open tasks are cancelled and everyone on them is told."""
    await _may_change(actor, order, CANCELLERS)
    reason = reason.strip()
    if not reason:
        raise Invalid("请填写取消原因", "reason")
    if order.state not in OPEN_ORDER_STATES:
        raise Conflict(f"订单 {order.number} {order.state.label}，不能取消")
    async with in_transaction():
        if not await move(order, to=OrderState.CANCELLED, expected=OPEN_ORDER_STATES, cancel_reason=reason[:255]):
            raise Conflict(f"订单 {order.number} 当前状态：{order.state.label}")
        tasks = await Task.filter(order_id=order.id, state__in=list(OPEN_TASK_STATES)).prefetch_related("assignee")
        await Task.filter(id__in=[t.id for t in tasks]).update(state=TaskState.CANCELLED)
        await order.refresh_from_db()
        await timeline.record(order, actor, "cancelled", reason=reason)
        told = {t.assignee.userid for t in tasks if t.assignee is not None}
        told.add((await Staff.get(id=order.sales_id)).userid)
        told.discard(actor.userid)
        for t in tasks:
            if t.assignee is not None:
                await runtime().kv.delete(chat_task_key(t.assignee.userid), if_value=str(t.id))
        if told:
            await enqueue_message(
                notice_card(
                    sorted(told),
                    await order_view(order),
                    title="订单已取消",
                    text=f"{actor.name}：{reason}",
                    links=runtime().links,
                    kind="cancelled",
                )
            )
    return order


async def request_remeasure(*, actor: Staff, order: Order, reason: str) -> Order:
    """Measure again: the earlier measuring is kept and shown as superseded; dispatch starts over."""
    await _may_change(actor, order, (Role.SALES, Role.DESIGNER, Role.MEASURE_DISPATCHER, Role.MANAGER))
    reason = reason.strip()
    if not reason:
        raise Invalid("请填写重新测量的原因", "reason")
    if order.state not in REMEASURE_STATES:
        raise Conflict(f"订单 {order.number} 当前状态：{order.state.label}，不能重新测量")
    async with in_transaction():
        # The earlier measuring and design no longer hold: their stage times go with them.
        if not await move(order, to=OrderState.CREATED, expected=REMEASURE_STATES, measured_at=None, designed_at=None):
            raise Conflict(f"订单 {order.number} 当前状态：{order.state.label}")
        await Task.filter(order_id=order.id, kind=TaskKind.MEASURE, superseded=False).update(superseded=True)
        await order.refresh_from_db()
        await timeline.record(order, actor, "remeasure", reason=reason)
        await notify_dispatchers(MEASURE, order, reason="需要重新测量", note=f"{actor.name}：{reason}")
        designers = [d.userid for d in await staff_covering(order, Role.DESIGNER) if d.id != actor.id]
        if designers:
            await enqueue_message(
                notice_card(
                    designers,
                    await order_view(order),
                    title="重新测量",
                    text=f"{actor.name}：{reason}",
                    links=runtime().links,
                    kind="remeasure",
                )
            )
    return order
