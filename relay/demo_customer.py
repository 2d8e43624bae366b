"""The demo's customer side: 林先生 (LS20261102, measuring booked) has asked on his own order page to move
the visit, so the measure dispatchers have a 客户申请测量改期 card waiting."""

from __future__ import annotations

from datetime import timedelta

from infra.timeutil import local_today
from models import DayPart, Order, OrderState, TaskKind


async def seed_customer_requests() -> None:
    from workflow.customer_requests import request_reschedule

    order = await Order.get_or_none(number="LS20261102", state=OrderState.MEASURE_SCHEDULED)
    if order is None:
        return
    await request_reschedule(
        order=order,
        kind=TaskKind.MEASURE,
        wanted=local_today() + timedelta(days=4),
        part=DayPart.AFTERNOON,
        note="工作日白天家里没人，周末下午方便",
    )
