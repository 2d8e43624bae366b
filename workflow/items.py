"""An order's products by room: checked, priced and written the same way at sale and at measuring."""

from __future__ import annotations

from dataclasses import dataclass, field

from models import Order, OrderItem, OrderPiece, Product
from workflow.errors import Invalid
from workflow.fields import ITEMS
from workflow.pricing import LinePrice, Price, amount_of, line_unit_price

MAX_ITEMS = 50


@dataclass(frozen=True)
class ItemInput:
    product_id: int
    room: str = ""
    quantity: int = 1
    price: LinePrice = field(default_factory=LinePrice)  # what sales typed: a unit price or a discount


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


def priced_lines(items: list[ItemInput], products: dict[int, Product], prices: dict[int, Price]) -> list[OrderItem]:
    """The order's lines, not yet saved: each with the list price it was offered at, the unit price
    agreed and quantity x unit price. Invalid for a discount on an unpriced product."""
    lines = []
    for item in items:
        product = products[item.product_id]
        listed = prices[item.product_id].price if item.product_id in prices else None
        unit_price = line_unit_price(listed, item.price)
        lines.append(
            OrderItem(
                product=product,
                series=product.series,
                model=product.model,
                room=item.room.strip(),
                quantity=item.quantity,
                list_price=listed,
                unit_price=unit_price,
                amount=amount_of(item.quantity, unit_price),
            )
        )
    return lines


async def write_items(order: Order, lines: list[OrderItem]) -> list[OrderItem]:
    """Replace the order's items with `lines` (priced_lines; inside the caller's transaction), each
    with one piece per unit."""
    await OrderPiece.filter(order_id=order.id).delete()
    await OrderItem.filter(order_id=order.id).delete()
    for row in lines:
        row.order = order
        await row.save()
        await OrderPiece.bulk_create([OrderPiece(order=order, item=row, seq=k) for k in range(1, row.quantity + 1)])
    return lines
