"""Goods-in (仓库): each item's production number matched to the order; all in -> ready to install."""

from __future__ import annotations

import re

from tortoise.transactions import in_transaction

from infra.timeutil import utcnow
from models import Order, OrderItem, Staff
from models.flows import INSTALL
from workflow import notify
from workflow.errors import Conflict, Invalid, NotFound
from workflow.lifecycle import apply
from workflow.order_lifecycle import ORDER
from workflow.selectors import item_label
from workflow.tasks import notify_dispatchers

PRODUCTION_NUMBER_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-_/.]{0,63}$")


async def check_warehouse(actor: Staff, order: Order) -> None:
    await ORDER.check(ORDER["receive_item"], actor, order)


async def receive_item(*, actor: Staff, order: Order, item_id: int, production_number: str) -> OrderItem:
    """Record one item's arrival with its production number. When the last one is in, the install
    dispatchers get "已到货"."""
    await check_warehouse(actor, order)
    number = production_number.strip().upper()
    if not PRODUCTION_NUMBER_RE.match(number):
        raise Invalid("生产编号只能包含字母、数字和 - _ / .，最多 64 位", "production_number")
    item = await OrderItem.get_or_none(id=item_id, order_id=order.id)
    if item is None:
        raise NotFound("这件产品不属于该订单")
    other = await OrderItem.filter(production_number=number).exclude(id=item.id).prefetch_related("order").first()
    if other is not None:
        raise Conflict(f"生产编号 {number} 已登记在订单 {other.order.number} 的 {item_label(other)}")
    async with in_transaction():
        moved = await OrderItem.filter(id=item.id, production_number__isnull=True).update(
            production_number=number, arrived_at=utcnow(), received_by_id=actor.id
        )
        if not moved:
            await item.refresh_from_db()
            raise Conflict(f"{item_label(item)} 已入库，生产编号 {item.production_number}")
        await item.refresh_from_db()
        await apply(
            ORDER["receive_item"],
            actor=actor,
            order=order,
            event={"item": item_label(item), "production_number": number},
        )
        if not await OrderItem.filter(order_id=order.id, production_number__isnull=True).exists():
            await _all_in(actor, order)
    return item


async def _all_in(actor: Staff, order: Order) -> None:
    try:
        await apply(ORDER["all_in"], actor=actor, order=order)
    except Conflict:
        return  # another scan took the order on
    await notify_dispatchers(INSTALL, order)
    await notify.arrived(order)


async def missing_items(order: Order) -> list[OrderItem]:
    return await OrderItem.filter(order_id=order.id, production_number__isnull=True).order_by("id")
