"""The dealer order's permission matrix, generated from its table (workflow/dealer_lifecycle.py): for every
state, every member (the dealer's own staff, another dealer's, the company's dealer manager and one whose part
of the company holds no dealer, a member with the dealer role in a store, the factory, sales, a manager) and
every row, the workflow accepts exactly what `available()` offers, a refusal changes nothing, and the order's
page shows exactly those buttons, or is not found for a member who may see nothing of it.

Each attempt runs inside a transaction that is rolled back, so one order per state serves them all."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import pytest
from tortoise.transactions import in_transaction

from models import DealerOrder, DealerOrderEvent, DealerOrderLine, DealerOrderState, OutboxMessage, Role, Staff
from tests.support import World
from tests.test_dealers import dealer_prices, product_id
from tests.test_permissions import FAR, STORE, member
from workflow import dealers
from workflow.dealer_lifecycle import DEALER_ORDER
from workflow.errors import WorkflowError

D = DealerOrderState
Run = Callable[[Staff, DealerOrder], Awaitable[object]]

RUNS: dict[str, Run] = {
    "save": lambda a, o: dealers.save_draft(actor=a, order=o, form=dealers.DraftInput({}, note="改一下")),
    "submit": lambda a, o: dealers.submit(actor=a, order=o),
    "accept": lambda a, o: dealers.accept(actor=a, order=o),
    "return": lambda a, o: dealers.return_order(actor=a, order=o, reason="请核对数量"),
    "revise": lambda a, o: dealers.revise(actor=a, order=o),
    "cancel": lambda a, o: dealers.cancel(actor=a, order=o),
    "copy": lambda a, o: dealers.copy(actor=a, order=o),
}


class _Undo(Exception):
    pass


async def order_in(state: D) -> DealerOrder:
    dealer, manager = await Staff.get(userid="hengmei"), await Staff.get(userid="qudaojingli")
    order = await dealers.add_to_cart(actor=dealer, product_id=await product_id("K5"), quantity=2)
    if state != D.DRAFT:
        await dealers.submit(actor=dealer, order=order)
    if state == D.ACCEPTED:
        await dealers.accept(actor=manager, order=order)
    if state == D.RETURNED:
        await dealers.return_order(actor=manager, order=order, reason="退回")
    if state == D.CANCELLED:
        await dealers.cancel(actor=dealer, order=order)
    await order.refresh_from_db()
    return order


async def snapshot(order: DealerOrder) -> tuple[object, ...]:
    await order.refresh_from_db()
    return (
        order.state,
        order.amount,
        order.note,
        await DealerOrderEvent.filter(order_id=order.id).count(),
        await DealerOrderLine.filter(order_id=order.id).count(),
        await DealerOrder.all().count(),
        await OutboxMessage.all().count(),
    )


async def actors() -> dict[str, Staff]:
    people = {u: await Staff.get(userid=u) for u in ("hengmei", "hengmeixu", "jiajia", "qudaojingli")}
    people["dealer-in-a-store"] = await member("store-dealer", Role.DEALER, STORE)
    people["far-dealer-manager"] = await member("far-dealer-manager", Role.DEALER_MANAGER, FAR)
    for userid in ("zhouchangzhang", "zhangxiaoshou", "wangzong"):
        people[userid] = await Staff.get(userid=userid)
    return people


async def attempt(name: str, actor: Staff, order: DealerOrder, untouched: tuple[object, ...]) -> bool:
    accepted = False
    try:
        async with in_transaction():
            try:
                await RUNS[name](actor, await DealerOrder.get(id=order.id))
            except WorkflowError as refused:
                assert refused.message
                assert await snapshot(order) == untouched, f"{name} refused but changed something"
                raise _Undo() from None
            accepted = True
            raise _Undo()
    except _Undo:
        pass
    return accepted


@pytest.mark.parametrize("state", list(D), ids=[s.value for s in D])
async def test_dealer_matrix(world: World, state: D) -> None:
    await dealer_prices()
    await dealer_prices(unit="杭州佳居")
    order = await order_in(state)
    assert order.state == state
    untouched = await snapshot(order)
    expected = {
        D.DRAFT: {"hengmei": {"save", "submit", "cancel", "copy"}, "hengmeixu": {"save", "submit", "cancel", "copy"}},
        D.SUBMITTED: {
            "hengmei": {"revise", "cancel", "copy"},
            "hengmeixu": {"revise", "cancel", "copy"},
            "qudaojingli": {"accept", "return"},
        },
        D.ACCEPTED: {"hengmei": {"copy"}, "hengmeixu": {"copy"}},
        D.RETURNED: {"hengmei": {"revise", "cancel", "copy"}, "hengmeixu": {"revise", "cancel", "copy"}},
        D.CANCELLED: {"hengmei": {"copy"}, "hengmeixu": {"copy"}},
    }[state]
    for name, actor in (await actors()).items():
        offered = {t.name for t in await DEALER_ORDER.available(actor, order)}
        accepted = {t.name for t in DEALER_ORDER if not t.automatic and await attempt(t.name, actor, order, untouched)}
        assert accepted == offered == expected.get(name, set()), f"{name} at {state.value}: {accepted}, {offered}"
        async with world.signed_in(actor.userid) as http:
            async with http.get(f"{world.relay_url}/h5/dealer/orders/{order.number}") as resp:
                html = await resp.text()
        sees = name in ("hengmei", "hengmeixu") or (name == "qudaojingli" and state != D.DRAFT)
        assert resp.status == (200 if sees else 404), f"{name} at {state.value}: {resp.status}"
        if sees:
            buttons = set(re.findall(r'id="step-([a-z]+)"', html))
            assert buttons == offered, f"{name} at {state.value}: page offers {buttons}"
    assert await snapshot(order) == untouched
