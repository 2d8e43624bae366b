"""Measure dispatcher (测量派单): the one-tap dispatch on the new-order card."""

from __future__ import annotations

from datetime import date

from cards.keys import DispatchMeasureKey
from handlers.router import Ctx, Router
from models import Order, Role
from workflow.errors import NotFound
from workflow.measure import dispatch_measure

router = Router("measure_dispatcher", roles=(Role.MEASURE_DISPATCHER,))


@router.click(DispatchMeasureKey)
async def dispatch(ctx: Ctx) -> None:
    key = ctx.key
    assert isinstance(key, DispatchMeasureKey)
    order = await Order.get_or_none(id=key.order_id)
    if order is None:
        raise NotFound("订单不存在")
    task = await dispatch_measure(
        actor=ctx.staff, order=order, measurer_id=key.measurer_id, day=date.fromisoformat(key.date)
    )
    await task.fetch_related("assignee")
    await ctx.mark_card(f"已派给{task.assignee.name if task.assignee else ''}")
