"""Who may work a field job, and the helpers the generated matrix (test_lifecycle_matrix.py) walks orders with."""

from __future__ import annotations

from datetime import timedelta

import pytest

from infra.runtime import runtime
from infra.timeutil import local_today
from models import (
    Attachment,
    Order,
    OrderEvent,
    OrderPiece,
    OrderState,
    OutboxMessage,
    Payment,
    Product,
    Role,
    Staff,
    Task,
    Visit,
)
from relay.demo import advance
from tests.support import World, jpeg
from workflow.admin import ensure_unit
from workflow.errors import NotAllowed
from workflow.measure import add_site_photo, finish_measure
from workflow.orders import ItemInput, create_order
from workflow.tasks import answer_task

STORE = "朗斯家居/华东区/上海徐汇店"
FAR = "朗斯家居/华南区/广州天河店"


async def member(userid: str, role: Role, unit: str) -> Staff:
    org = await ensure_unit(unit)
    staff, _ = await Staff.get_or_create(
        userid=userid, defaults={"name": userid, "roles": [role.value], "org_unit": org}
    )
    return staff


async def seeded(userid: str) -> Staff:
    return await Staff.get(userid=userid)


async def new_order(number: str) -> Order:
    k5 = await Product.get(model="K5")
    return await create_order(
        actor=await seeded("zhangxiaoshou"),
        number=number,
        customer_name="客户",
        phone="13900000000",
        address="上海",
        items=[ItemInput(product_id=k5.id, room="主卫")],
        expected_measure_date=local_today(),
    )


async def at_state(number: str, state: OrderState) -> Order:
    """An order walked through the real workflow up to `state` (the demo's walk)."""
    return await advance(await new_order(number), state, day=local_today() + timedelta(days=1))


async def snapshot(order: Order) -> tuple[object, ...]:
    await order.refresh_from_db()
    return (
        order.state,
        order.contract_amount,
        await OrderEvent.filter(order_id=order.id).count(),
        await Task.filter(order_id=order.id).count(),
        await Payment.filter(order_id=order.id).count(),
        await Attachment.filter(order_id=order.id).count(),
        await OrderPiece.filter(order_id=order.id, arrived_at__isnull=False).count(),
        await Visit.filter(order_id=order.id).count(),
        await OutboxMessage.all().count(),
        tuple(
            await Task.filter(order_id=order.id).order_by("id").values_list("state", "assignee_id", "scheduled_date")
        ),
    )


async def _first_task(order: Order) -> Task:
    task = await Task.filter(order_id=order.id).order_by("-id").first()
    assert task is not None
    return task


async def test_only_the_assignee_works_the_task(world: World) -> None:
    order = await at_state("PM-ASSIGNEE", OrderState.MEASURE_SCHEDULED)
    task = await _first_task(order)
    colleague = await seeded("wuceliang")  # a measurer in the same team, not the assignee
    before = await snapshot(order)
    with pytest.raises(NotAllowed, match="这不是你的任务"):
        await answer_task(actor=colleague, task_id=task.id, accept=True)
    with pytest.raises(NotAllowed, match="你没有订单 PM-ASSIGNEE 的测量任务"):
        await add_site_photo(
            actor=colleague, order=order, stored=await runtime().files.put_image(jpeg()), media_id=None
        )
    with pytest.raises(NotAllowed):
        await finish_measure(actor=colleague, order=order)
    assert await snapshot(order) == before
    from workflow.tasks import transfer_task

    assignee = await seeded("sunceliang")
    await transfer_task(actor=assignee, task_id=task.id, colleague_id=colleague.id, reason="家里有事")
    await task.refresh_from_db()
    assert task.assignee_id == colleague.id and task.state.value == "assigned"
    far = await member("far-measurer", Role.MEASURER, FAR)
    with pytest.raises(NotAllowed, match="不在同一个团队中"):
        await transfer_task(actor=colleague, task_id=task.id, colleague_id=far.id)
