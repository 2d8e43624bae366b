"""Goods-in by chat, piece by piece: the warehouse scans with WeCom's menu scanner (scancode_waitmsg),
picks the item when the order has several still to come, and the order arrives with its last piece.
And the migration that turned items into pieces."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from infra.timeutil import local_today
from models import Order, OrderEvent, OrderPiece, OrderState, Product, Role, Staff
from relay.db import close_db, open_db
from relay.demo import advance
from tests.support import World
from tests.test_lifecycle import INSTALL_DISPATCHER, SALES, WAREHOUSE
from tests.test_permissions import STORE, member, seeded
from tests.upgrade import XDIST_GROUP
from workflow.goods import receive_pieces
from workflow.orders import ItemInput, create_order

NUMBER = "LS20261202101"
WINDOWS = "阳台：门窗 断桥铝 D70"


async def windows_order(world: World, number: str, state: OrderState) -> Order:
    """A shower enclosure for the bathroom and three windows for the balcony, walked to `state`."""
    products = {p.model: p for p in await Product.all()}
    order = await create_order(
        actor=await Staff.get(userid=SALES),
        number=number,
        customer_name="黄女士",
        phone="13812345678",
        address="上海市徐汇区漕溪北路 88 弄 3 号 1201",
        items=[
            ItemInput(product_id=products["K5"].id, room="主卫"),
            ItemInput(product_id=products["D70"].id, room="阳台", quantity=3),
        ],
        expected_measure_date=local_today() + timedelta(days=2),
    )
    order = await advance(order, state, day=local_today() + timedelta(days=1))
    await world.settle()
    return order


async def test_the_warehouse_scans_each_piece_in_chat(world: World) -> None:
    order = await windows_order(world, NUMBER, OrderState.CONFIRMED)
    await world.say(WAREHOUSE, f"入库 {NUMBER}")
    card = world.card(WAREHOUSE, f"入库 · 订单 {NUMBER}")
    assert card.desc == "0/4 件已到货"
    assert f"{WINDOWS}×3：0/3 已到" in card.card["quote_area"]["quote_text"]

    # Two items still to come: which one is this label on?
    await world.emu.user_scans(WAREHOUSE, "scan_goods_in", "CODE_128,W70-0001")
    await world.settle()
    pick = world.card(WAREHOUSE, "扫码入库：属于哪件产品？")
    assert len(pick.buttons) == 2
    await world.tap(WAREHOUSE, pick, "阳台：门窗")
    assert world.emu.card(WAREHOUSE, pick.msgid).replace_text == "已入库：W70-0001"
    card = world.card(WAREHOUSE, f"入库 · 订单 {NUMBER}")
    assert card.desc == "1/4 件已到货"
    assert f"{WINDOWS}×3：1/3 已到（W70-0001）" in card.card["quote_area"]["quote_text"]

    # The same label scanned again (its QR code this time) is refused at once, naming where it went.
    # (The same code twice within one second would be one scan: WeCom's re-send of it looks the same.)
    cards_before = len(world.emu.cards(WAREHOUSE))
    await world.emu.user_scans(WAREHOUSE, "scan_goods_in", "QR_CODE,W70-0001")
    await world.settle()
    assert world.last_text(WAREHOUSE) == f"生产编号 W70-0001 已登记在订单 {NUMBER} 的 {WINDOWS} 第 1/3 件，请核对编号"
    assert len(world.emu.cards(WAREHOUSE)) == cards_before

    await world.emu.user_scans(WAREHOUSE, "scan_goods_in", "CODE_128,K5-0001")
    await world.settle()
    await world.tap(WAREHOUSE, world.card(WAREHOUSE, "扫码入库：属于哪件产品？"), "主卫：淋浴房")

    # Only windows left: a scan is the next window, no question asked.
    await world.emu.user_scans(WAREHOUSE, "scan_goods_in", "CODE_128,W70-0002")
    await world.settle()
    assert world.card(WAREHOUSE, f"入库 · 订单 {NUMBER}").desc == "3/4 件已到货"
    await order.refresh_from_db()
    assert order.state == OrderState.CONFIRMED
    assert not [c for c in world.emu.cards(INSTALL_DISPATCHER) if c.title == "已到货，待派安装"]

    await world.emu.user_scans(WAREHOUSE, "scan_goods_in", "CODE_128,W70-0003")
    await world.settle()
    assert world.card(WAREHOUSE, f"入库 · 订单 {NUMBER}").desc == "4/4 件已到货"
    await order.refresh_from_db()
    assert order.state == OrderState.IN_STOCK
    assert NUMBER in world.card(INSTALL_DISPATCHER, "已到货，待派安装").desc
    assert NUMBER in world.card(SALES, "已到货").desc
    await world.emu.user_scans(WAREHOUSE, "scan_goods_in", "CODE_128,W70-0004")
    await world.settle()
    assert world.last_text(WAREHOUSE) == f"订单 {NUMBER} 的产品已全部入库。"

    numbers = await OrderPiece.filter(order_id=order.id).order_by("item_id", "seq").values_list("production_number")
    assert [n for (n,) in numbers] == ["K5-0001", "W70-0001", "W70-0002", "W70-0003"]
    events = await OrderEvent.filter(order_id=order.id, kind="goods_in").order_by("id").values_list("payload")
    assert [p["item"] for (p,) in events] == [f"{WINDOWS} 第 1/3 件", "主卫：淋浴房 K系列 K5"] + [
        f"{WINDOWS} 第 {n}/3 件" for n in (2, 3)
    ]


async def test_the_last_two_windows_received_at_once_move_the_order_once(world: World) -> None:
    """Two warehouse members each record one of the last two windows at the same moment (on
    PostgreSQL, two connections): the order arrives once, and the dispatcher hears of it once."""
    order = await windows_order(world, NUMBER, OrderState.CONFIRMED)
    first, second = await seeded(WAREHOUSE), await member("wh-colleague", Role.WAREHOUSE, STORE)
    pieces = await OrderPiece.filter(order_id=order.id).order_by("item_id", "seq")
    await receive_pieces(actor=first, order=order, numbers={pieces[0].id: "K5-0001", pieces[1].id: "W70-0001"})
    await asyncio.gather(
        receive_pieces(actor=first, order=await Order.get(id=order.id), numbers={pieces[2].id: "W70-0002"}),
        receive_pieces(actor=second, order=await Order.get(id=order.id), numbers={pieces[3].id: "W70-0003"}),
    )
    await order.refresh_from_db()
    assert order.state == OrderState.IN_STOCK
    assert await OrderEvent.filter(order_id=order.id, kind="in_stock").count() == 1
    await world.settle()
    assert len([c for c in world.emu.cards(INSTALL_DISPATCHER) if c.title == "已到货，待派安装"]) == 1


# The migration (0007) that turned each order item into its pieces, on a database that had items received
# before it (tests/upgrade.py: BEFORE_PIECES).


@pytest.mark.xdist_group(XDIST_GROUP)
async def test_items_already_received_become_pieces(upgraded_database: str) -> None:
    await open_db(upgraded_database)
    try:
        pieces = await OrderPiece.filter(order_id=1).order_by("item_id", "seq").prefetch_related("received_by")
        assert [(p.item_id, p.seq, p.production_number, p.state.value) for p in pieces] == [
            (1, 1, "P-OLD-1", "in_stock"),
            (1, 2, None, "queued"),
            (1, 3, None, "queued"),
            (2, 1, None, "queued"),
            (3, 1, None, "queued"),
            (3, 2, None, "queued"),
        ]
        first = pieces[0]
        assert first.received_by is not None and first.received_by.name == "冯仓管"
        assert first.arrived_at is not None and first.arrived_at.isoformat() == "2026-11-02T09:30:00+00:00"
        assert all(p.arrived_at is None and p.received_by is None for p in pieces[1:])
    finally:
        await close_db()
