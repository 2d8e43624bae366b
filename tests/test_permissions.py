"""Every workflow action against every role, in and out of scope: allowed or refused, and a refusal
changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from infra.runtime import runtime
from infra.timeutil import local_today
from models import (
    Attachment,
    Order,
    OrderEvent,
    OrderItem,
    OrderState,
    OutboxMessage,
    Payment,
    PaymentKind,
    PaymentMethod,
    Product,
    Role,
    Staff,
    Task,
    TaskKind,
    Visit,
)
from relay.demo import advance
from tests.support import World, jpeg
from workflow.admin import ensure_unit
from workflow.aftersales import Score, record_visit
from workflow.changes import cancel_order, request_remeasure
from workflow.design import add_design, finish_design
from workflow.errors import NotAllowed, WorkflowError
from workflow.goods import receive_item
from workflow.measure import add_site_photo, finish_measure
from workflow.orders import ItemInput, create_order
from workflow.payments import confirm_design
from workflow.tasks import answer_task, dispatch_task, reschedule_task

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
        await OrderItem.filter(order_id=order.id, production_number__isnull=False).count(),
        await Visit.filter(order_id=order.id).count(),
        await OutboxMessage.all().count(),
        tuple(
            await Task.filter(order_id=order.id).order_by("id").values_list("state", "assignee_id", "scheduled_date")
        ),
    )


@dataclass(frozen=True)
class Action:
    name: str
    state: OrderState
    allowed: tuple[Role, ...]  # roles allowed when the order is in their part of the company
    run: Callable[[Staff, Order], Awaitable[object]]
    own_sale: bool = False  # sales: only the order's own salesperson


async def _first_task(order: Order) -> Task:
    task = await Task.filter(order_id=order.id).order_by("-id").first()
    assert task is not None
    return task


ACTIONS = [
    Action(
        "dispatch_measure",
        OrderState.CREATED,
        (Role.MEASURE_DISPATCHER,),
        lambda a, o: dispatch_task(actor=a, order=o, kind=TaskKind.MEASURE, worker_id=_MEASURER[0], day=local_today()),
    ),
    Action(
        "reschedule_measure", OrderState.MEASURE_SCHEDULED, (Role.MEASURE_DISPATCHER,), lambda a, o: _reschedule(a, o)
    ),
    Action("finish_design", OrderState.MEASURED, (Role.DESIGNER,), lambda a, o: _design(a, o)),
    Action(
        "confirm_design",
        OrderState.DESIGNED,
        (Role.SALES,),
        lambda a, o: confirm_design(
            actor=a,
            order=o,
            contract_amount=Decimal(500),
            first_payment=Decimal(100),
            method=PaymentMethod.WECHAT,
            kind=PaymentKind.DEPOSIT,
        ),
        own_sale=True,
    ),
    Action("goods_in", OrderState.CONFIRMED, (Role.WAREHOUSE,), lambda a, o: _goods_in(a, o)),
    Action(
        "dispatch_install",
        OrderState.IN_STOCK,
        (Role.INSTALL_DISPATCHER,),
        lambda a, o: dispatch_task(actor=a, order=o, kind=TaskKind.INSTALL, worker_id=_INSTALLER[0], day=local_today()),
    ),
    Action(
        "visit",
        OrderState.INSTALLED,
        (Role.AFTER_SALES,),
        lambda a, o: record_visit(
            actor=a, order=o, reached=True, scores={r: Score(5) for r in ("sales", "measurer", "installer")}
        ),
    ),
    Action(
        "remeasure",
        OrderState.MEASURED,
        (Role.SALES, Role.DESIGNER, Role.MEASURE_DISPATCHER, Role.MANAGER),
        lambda a, o: request_remeasure(actor=a, order=o, reason="客户改主意"),
        own_sale=True,
    ),
    Action(
        "cancel",
        OrderState.MEASURE_SCHEDULED,
        (Role.SALES, Role.MANAGER, Role.ADMIN),
        lambda a, o: cancel_order(actor=a, order=o, reason="客户取消"),
        own_sale=True,
    ),
]
_MEASURER: list[int] = [0]
_INSTALLER: list[int] = [0]


async def _reschedule(actor: Staff, order: Order) -> object:
    task = await _first_task(order)
    return await reschedule_task(actor=actor, task_id=task.id, day=task.scheduled_date + timedelta(days=3))


async def _design(actor: Staff, order: Order) -> object:
    await add_design(actor=actor, order=order, stored=await runtime().files.put_image(jpeg()), filename="d.jpg")
    return await finish_design(actor=actor, order=order)


async def _goods_in(actor: Staff, order: Order) -> object:
    item = await OrderItem.get(order_id=order.id)
    return await receive_item(actor=actor, order=order, item_id=item.id, production_number=f"X-{order.number}")


@pytest.mark.parametrize("action", ACTIONS, ids=[a.name for a in ACTIONS])
async def test_permission_matrix(world: World, action: Action) -> None:
    _MEASURER[0] = (await seeded("sunceliang")).id
    _INSTALLER[0] = (await seeded("chenanzhuang")).id
    order = await at_state(f"PM-{action.name.upper().replace('_', '')}"[:32], action.state)
    before = await snapshot(order)
    for role in Role:
        near = await member(f"near-{role.value}", role, STORE)
        far = await member(f"far-{role.value}", role, FAR)
        in_scope_allowed = role in action.allowed and not (role == Role.SALES and action.own_sale)
        if in_scope_allowed:
            # The same role elsewhere in the company may not touch this order.
            with pytest.raises(NotAllowed):
                await action.run(far, order)
            assert await snapshot(order) == before, f"{role} out of scope changed something"
            continue
        with pytest.raises(WorkflowError) as refused:
            await action.run(near, order)
        assert refused.value.message, role
        assert await snapshot(order) == before, f"{role} changed something while refused"
    if action.own_sale and Role.SALES in action.allowed:
        other_sales = await member("near-sales", Role.SALES, STORE)
        with pytest.raises(NotAllowed):
            await action.run(other_sales, order)
        assert await snapshot(order) == before
    # And the allowed member does it.
    allowed_role = action.allowed[0]
    actor = (
        await seeded("zhangxiaoshou")
        if allowed_role == Role.SALES
        else await member(f"near-{allowed_role.value}", allowed_role, STORE)
    )
    if allowed_role in (Role.MEASURE_DISPATCHER, Role.INSTALL_DISPATCHER):
        actor = await seeded("zhaopaidan")  # workers are in the dispatcher's team
    await action.run(actor, order)
    assert await snapshot(order) != before


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
