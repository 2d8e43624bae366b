"""Stock (库存) through the workflow: each move recorded with who and why, reservations all or none and
never beyond what is available (two orders for the last unit at once: one wins, the other is told), the
safety level telling purchasing once per crossing (a digest when many cross at once), bad input and
permission refusals changing nothing."""

from __future__ import annotations

import asyncio

import pytest

from models import Product, Staff, StockLevel, StockMove, StockMoveKind, Warehouse
from tests.support import World
from workflow import stock
from workflow.admin import ensure_unit
from workflow.errors import Conflict, Invalid, NotAllowed, NotFound
from workflow.stock import Line, OutOfStock

PURCHASING = "caicaigou"


async def setup() -> tuple[Warehouse, dict[str, Product], Staff]:
    unit = await ensure_unit("朗斯家居/华东区")
    warehouse = await Warehouse.create(name="华东仓", org_unit=unit)
    products = {p.model: p for p in await Product.all()}
    return warehouse, products, await Staff.get(userid="fengcangku")


async def moves(product: Product) -> list[tuple[str, int, int, int, str, str]]:
    rows = await StockMove.filter(product_id=product.id).order_by("id").prefetch_related("actor")
    return [
        (m.kind.value, m.quantity, m.on_hand_after, m.reserved_after, m.actor.name if m.actor else "", m.ref)
        for m in rows
    ]


async def level(product: Product, warehouse: Warehouse) -> tuple[int, int]:
    row = await StockLevel.get(product_id=product.id, warehouse_id=warehouse.id)
    return row.on_hand, row.reserved


async def test_every_move_is_recorded_with_who_and_why(world: World) -> None:
    warehouse, products, keeper = await setup()
    hinge, shower = products["HJ-01"], products["S1"]
    await stock.receive(actor=keeper, warehouse_id=warehouse.id, lines=[Line(hinge.id, 10)], reason="到货")
    # A made-to-measure product in the same order is passed over: it is made for the order.
    lines = [Line(hinge.id, 3), Line(shower.id, 1)]
    await stock.reserve(warehouse_id=warehouse.id, lines=lines, ref="dealer_order:1", actor=None, reason="经销商下单")
    assert await stock.available([hinge.id, shower.id]) == {hinge.id: 7, shower.id: 0}
    await stock.release(
        warehouse_id=warehouse.id, lines=[Line(hinge.id, 1)], ref="dealer_order:1", actor=keeper, reason="改单"
    )
    await stock.issue(
        warehouse_id=warehouse.id, lines=[Line(hinge.id, 2)], ref="dealer_order:1", actor=keeper, reason="发货"
    )
    await stock.receive(
        actor=keeper, warehouse_id=warehouse.id, lines=[Line(hinge.id, 1)], reason="客户退货", returned=True
    )
    await stock.count(actor=keeper, warehouse_id=warehouse.id, product_id=hinge.id, counted=8, reason="月底盘点")
    assert await moves(hinge) == [
        ("received", 10, 10, 0, "冯仓管", ""),
        ("reserved", 3, 10, 3, "", "dealer_order:1"),
        ("released", 1, 10, 2, "冯仓管", "dealer_order:1"),
        ("issued", 2, 8, 0, "冯仓管", "dealer_order:1"),
        ("returned", 1, 9, 0, "冯仓管", ""),
        ("counted", -1, 8, 0, "冯仓管", ""),
    ]
    assert [m.reason for m in await StockMove.filter(product_id=hinge.id).order_by("id")][-1] == "月底盘点"
    assert await moves(shower) == []
    assert await stock.available([hinge.id], warehouse.id) == {hinge.id: 8}


async def test_a_reservation_is_all_or_nothing(world: World) -> None:
    warehouse, products, keeper = await setup()
    hinge, handle = products["HJ-01"], products["LS-01"]
    await stock.receive(
        actor=keeper, warehouse_id=warehouse.id, lines=[Line(hinge.id, 5), Line(handle.id, 1)], reason="到货"
    )
    with pytest.raises(OutOfStock) as refused:
        await stock.reserve(
            warehouse_id=warehouse.id,
            lines=[Line(hinge.id, 2), Line(handle.id, 2)],
            ref="dealer_order:2",
            actor=None,
            reason="经销商下单",
        )
    assert refused.value.message == "配件 五金 LS-01（淋浴房拉手） 库存不足：需要 2 件，现可用 1 件"
    assert await level(hinge, warehouse) == (5, 0) and await level(handle, warehouse) == (1, 0)
    assert {m.kind for m in await StockMove.all()} == {StockMoveKind.RECEIVED}
    # Releasing or issuing more than was reserved is refused too.
    with pytest.raises(Conflict, match="只预留了 0 件"):
        await stock.issue(warehouse_id=warehouse.id, lines=[Line(hinge.id, 1)], ref="x", actor=None, reason="")


async def test_two_orders_for_the_last_unit_at_once(world: World) -> None:
    """Each reservation in its own transaction (its own connection on PostgreSQL): one wins."""
    warehouse, products, keeper = await setup()
    shelf = products["ZJ-A"]
    for round_ in range(5):
        await stock.receive(actor=keeper, warehouse_id=warehouse.id, lines=[Line(shelf.id, 1)], reason="到货")

        async def order(n: int) -> str:
            try:
                await stock.reserve(
                    warehouse_id=warehouse.id,
                    lines=[Line(shelf.id, 1)],
                    ref=f"dealer_order:{n}",
                    actor=None,
                    reason="下单",
                )
            except OutOfStock as refused:
                return refused.message
            return "ok"

        results = await asyncio.gather(order(round_ * 2), order(round_ * 2 + 1))
        assert sorted(results) == ["ok", "物料 展示 ZJ-A（门店展架） 库存不足：需要 1 件，现可用 0 件"], results
        on_hand, reserved = await level(shelf, warehouse)
        assert on_hand - reserved == 0 and reserved == round_ + 1
    assert await StockMove.filter(kind=StockMoveKind.RESERVED).count() == 5


async def test_bad_input_changes_nothing(world: World) -> None:
    warehouse, products, keeper = await setup()
    hinge = products["HJ-01"]
    for quantity, message in ((-1, "数量必须大于 0"), (0, "数量必须大于 0"), ("1.5", "数量必须是整数：1.5")):
        with pytest.raises(Invalid, match=message):
            await stock.receive(
                actor=keeper,
                warehouse_id=warehouse.id,
                lines=[Line(hinge.id, quantity)],
                reason="到货",  # type: ignore[arg-type]
            )
    with pytest.raises(NotFound, match="没有这个产品"):
        await stock.receive(actor=keeper, warehouse_id=warehouse.id, lines=[Line(999999, 1)], reason="到货")
    with pytest.raises(Invalid, match="是定制产品，不入库存"):
        await stock.receive(actor=keeper, warehouse_id=warehouse.id, lines=[Line(products["S1"].id, 1)], reason="到货")
    with pytest.raises(Invalid, match="数量不能是负数"):
        await stock.count(actor=keeper, warehouse_id=warehouse.id, product_id=hinge.id, counted=-3, reason="")
    assert not await StockMove.exists() and not await StockLevel.exists()


async def test_who_may_do_what(world: World) -> None:
    warehouse, products, keeper = await setup()
    hinge = products["HJ-01"]
    sales, buyer = await Staff.get(userid="zhangxiaoshou"), await Staff.get(userid=PURCHASING)
    with pytest.raises(NotAllowed, match="只有仓库管理员或管理员可以入库"):
        await stock.receive(actor=sales, warehouse_id=warehouse.id, lines=[Line(hinge.id, 1)], reason="")
    with pytest.raises(NotAllowed, match="只有仓库管理员或管理员可以盘点"):
        await stock.count(actor=buyer, warehouse_id=warehouse.id, product_id=hinge.id, counted=1, reason="")
    with pytest.raises(NotAllowed, match="只有采购或管理员可以设置安全库存"):
        await stock.set_safety_level(actor=keeper, warehouse_id=warehouse.id, product_id=hinge.id, safety_level=5)
    # The warehouse keeper of 华东区 does not count in 华南区's warehouse.
    south = await Warehouse.create(name="华南仓", org_unit=await ensure_unit("朗斯家居/华南区"))
    with pytest.raises(NotAllowed, match="华南仓 不在你负责的范围内，不能盘点"):
        await stock.count(actor=keeper, warehouse_id=south.id, product_id=hinge.id, counted=1, reason="")
    assert not await StockMove.exists()
    await stock.set_safety_level(actor=buyer, warehouse_id=south.id, product_id=hinge.id, safety_level=2)
