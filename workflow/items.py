"""An order's products by room: checked and written the same way at sale and at measuring."""

from __future__ import annotations

from dataclasses import dataclass

from models import Order, OrderItem, Product
from workflow.errors import Invalid
from workflow.fields import ITEMS

MAX_ITEMS = 50


@dataclass(frozen=True)
class ItemInput:
    product_id: int
    room: str = ""
    quantity: int = 1


async def check_items(items: list[ItemInput]) -> dict[int, Product]:
    """The active products the items name; Invalid (field "items") for anything wrong."""
    if not items:
        raise Invalid(ITEMS.required, ITEMS.name)
    if len(items) > MAX_ITEMS:
        raise Invalid(f"一张订单最多 {MAX_ITEMS} 件产品", "items")
    products = {p.id: p for p in await Product.filter(id__in=[i.product_id for i in items], active=True)}
    for item in items:
        if item.product_id not in products:
            raise Invalid("所选产品不存在或已下架，请刷新后重选", "items")
        if not 1 <= item.quantity <= 99:
            raise Invalid("产品数量应在 1 到 99 之间", "items")
        if len(item.room.strip()) > 64:
            raise Invalid("房间名称最多 64 字", "items")
    return products


async def write_items(order: Order, items: list[ItemInput], products: dict[int, Product]) -> list[OrderItem]:
    """Replace the order's items (inside the caller's transaction)."""
    await OrderItem.filter(order_id=order.id).delete()
    return [
        await OrderItem.create(
            order=order,
            product=products[item.product_id],
            series=products[item.product_id].series,
            model=products[item.product_id].model,
            room=item.room.strip(),
            quantity=item.quantity,
        )
        for item in items
    ]
