"""Warehouse (仓库): goods-in by chat: pick the order, scan each piece's production number, pick its item."""

from __future__ import annotations

import re

from bot.events import ScanCode
from cards.keys import GoodsInKey
from cards.lifecycle import goods_in_card, scanned_card
from handlers.router import Ctx, Router
from models import Order, OrderItem
from workflow.chat import GOODS_IN, chat
from workflow.errors import NotFound
from workflow.goods import (
    check_warehouse,
    goods_of,
    production_number,
    receive_item,
    receive_number,
    refuse_taken,
)
from workflow.order_lifecycle import ORDER
from workflow.production import NUMBER_RE
from workflow.scope import get_order_for
from workflow.selectors import order_view

router = Router("warehouse", roles=ORDER.roles_of("receive_item"))

SCAN_KEY = "scan_goods_in"  # the app menu's scancode_waitmsg button


async def _goods_card(ctx: Ctx, order: Order) -> None:
    items = [
        (g.label, len(g.pieces), [p.production_number or "" for p in g.pieces if p.arrived_at is not None])
        for g in await goods_of(order)
    ]
    await ctx.send(goods_in_card(ctx.staff.userid, await order_view(order), items=items, links=ctx.links))


@router.text(r"入库\s*(?P<number>\S+)")
async def start_goods_in(ctx: Ctx, match: re.Match[str]) -> None:
    order = await get_order_for(ctx.staff, match["number"])
    await check_warehouse(ctx.staff, order)
    await chat().set(GOODS_IN, ctx.staff.userid, order.id)
    await _goods_card(ctx, order)


@router.scan(SCAN_KEY)
async def scanned(ctx: Ctx, event: ScanCode) -> None:
    number = event.scan_result.split(",")[-1].strip()  # barcodes come as "CODE_128,<number>"
    current = await chat().get(GOODS_IN, ctx.staff.userid)
    order = await Order.get_or_none(id=current) if current else None
    if (order is None and NUMBER_RE.fullmatch(number.strip())) or (order is not None and order.production_order_number):
        # Released to the factory: the number itself says which piece (and which order) arrived.
        order, _ = await receive_number(actor=ctx.staff, order=order, number=number)
        await chat().set(GOODS_IN, ctx.staff.userid, order.id)
        await order.refresh_from_db()
        await _goods_card(ctx, order)
        return
    if order is None:
        await ctx.reply("请先选择订单：点“待生产入库”卡片或“我的任务”里的“入库登记”，或发送“入库 <订单号>”，再扫码。")
        return
    waiting = [g for g in await goods_of(order) if g.missing]
    if not waiting:
        await ctx.reply(f"订单 {order.number} 的产品已全部入库。")
        return
    await check_warehouse(ctx.staff, order)
    if len(waiting) == 1:
        await receive_item(actor=ctx.staff, order=order, item_id=waiting[0].item.id, production_number=number)
        await order.refresh_from_db()
        await _goods_card(ctx, order)
        return
    number = production_number(number)
    await refuse_taken({0: number})  # a number already in is refused now, not after the pick
    items = [(g.item.id, g.label) for g in waiting]
    await ctx.send(scanned_card(ctx.staff.userid, await order_view(order), number=number, items=items))


@router.click(GoodsInKey)
async def item_picked(ctx: Ctx, key: GoodsInKey) -> None:
    item = await OrderItem.get_or_none(id=key.item_id)
    if item is None:
        raise NotFound("产品不存在")
    order = await Order.get(id=item.order_id)
    await receive_item(actor=ctx.staff, order=order, item_id=item.id, production_number=key.production_number)
    await ctx.mark_card(f"已入库：{key.production_number}")
    await order.refresh_from_db()
    await _goods_card(ctx, order)
