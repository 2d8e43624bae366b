"""Dispatchers (测量派单, 安装派单): the one-tap dispatch on the "ready" card, and a customer's reschedule
request marked handled."""

from __future__ import annotations

from datetime import date

from cards.keys import DispatchKey, RequestHandledKey
from handlers.router import Ctx, Router
from models import Order, TaskKind
from workflow.customer_requests import handle_request
from workflow.errors import NotFound
from workflow.order_lifecycle import ORDER
from workflow.tasks import dispatch_task

router = Router("dispatchers", roles=ORDER.roles_of("dispatch_measure", "dispatch_install"))


@router.click(DispatchKey)
async def dispatch(ctx: Ctx, key: DispatchKey) -> None:
    order = await Order.get_or_none(id=key.order_id)
    if order is None:
        raise NotFound("订单不存在")
    task = await dispatch_task(
        actor=ctx.staff, order=order, kind=TaskKind(key.kind), worker_id=key.worker_id, day=date.fromisoformat(key.date)
    )
    await task.fetch_related("assignee")
    await ctx.mark_card(f"已派给{task.assignee.name if task.assignee else ''}")


@router.click(RequestHandledKey)
async def reschedule_request_handled(ctx: Ctx, key: RequestHandledKey) -> None:
    await handle_request(actor=ctx.staff, request_id=key.request_id)
    await ctx.mark_card(f"已由{ctx.staff.name}处理")
