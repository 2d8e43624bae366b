"""An order's products by room: checked, priced and written the same way at sale and at measuring."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tortoise.transactions import in_transaction

from models import Order, OrderItem, OrderPiece, PieceState, Product, Staff
from workflow.approval import review_prices
from workflow.errors import Conflict, Invalid
from workflow.fields import ITEMS
from workflow.lifecycle import apply
from workflow.order_lifecycle import ORDER
from workflow.payments import payment_summary as payment_summary_of
from workflow.pricing import LinePrice, Price, amount_of, line_unit_price, store_totals, totals

MAX_ITEMS = 50


@dataclass(frozen=True)
class ItemInput:
    product_id: int
    room: str = ""
    quantity: int = 1
    price: LinePrice = field(default_factory=LinePrice)  # what sales typed: a unit price or a discount


async def check_items(items: list[ItemInput], *, kept: frozenset[int] = frozenset()) -> dict[int, Product]:
    """The active products the items name (or, `kept`, retired ones the order already has: a line
    sold before its product was retired stays); Invalid (field "items") for anything wrong."""
    if not items:
        raise Invalid(ITEMS.required, ITEMS.name)
    if len(items) > MAX_ITEMS:
        raise Invalid(f"一张订单最多 {MAX_ITEMS} 件产品", "items")
    named = await Product.filter(id__in=[i.product_id for i in items])
    products = {p.id: p for p in named if p.active or p.id in kept}
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


async def _none_started(changed: list[OrderItem], by_id: dict[int, OrderItem], *, hold: bool = False) -> None:
    """Refuse a new price for a line with a piece already in production (`hold`: and keep the pieces' rows
    locked until the caller's transaction ends)."""
    pieces = OrderPiece.filter(item_id__in=[i.id for i in changed])
    if hold:
        pieces = pieces.select_for_update()
    started = [p for p in await pieces if p.state != PieceState.QUEUED]
    if started:
        item = by_id[started[0].item_id]
        raise Conflict(f"{item.series} {item.model} 已开始生产，不能再修改价格", "已开始生产")


async def edit_prices(
    *, actor: Staff, order: Order, lines: dict[int, LinePrice], order_discount: Decimal | None
) -> Order:
    """Sales changes what lines sell at (a unit price or a discount, by item id; a line not named keeps
    its price) or the order's discount. Once the order is confirmed, a line may change only while
    none of its pieces has started production; the change goes on the timeline and the order goes
    back to price review."""
    step = ORDER["edit_prices"]
    await ORDER.check(step, actor, order)
    items = await OrderItem.filter(order_id=order.id).order_by("id")
    by_id = {i.id: i for i in items}
    if unknown := [iid for iid in lines if iid not in by_id]:
        raise Invalid(f"订单中没有这项产品（{unknown[0]}），请刷新后重试", "items")
    changed: list[OrderItem] = []
    for item in items:
        if item.id not in lines:
            continue
        unit_price = line_unit_price(item.list_price, lines[item.id])
        if unit_price != item.unit_price:
            item.unit_price, item.amount = unit_price, amount_of(item.quantity, unit_price)
            changed.append(item)
    discount = order_discount or Decimal("0.00")
    if not changed and discount == order.discount_amount:
        raise Invalid("价格没有改动")
    after_confirmation = order.confirmed_at is not None
    if after_confirmation and changed:
        await _none_started(changed, by_id)
    sums = totals(items, discount)
    if sums.priced and sums.contract_amount is not None:
        paid = (await payment_summary_of(order)).paid
        if sums.contract_amount < paid:
            raise Invalid(f"合同金额 {sums.contract_amount} 元低于已收 {paid} 元", "order_discount")
    before, order_discount_before = order.contract_amount, order.discount_amount
    async with in_transaction():
        if after_confirmation and changed:
            # Again with the pieces held: a 开始生产 at the same moment waits for the new price, or
            # was first and the price stays.
            await _none_started(changed, by_id, hold=True)
        for item in changed:
            await OrderItem.filter(id=item.id).update(unit_price=item.unit_price, amount=item.amount)
        await store_totals(order, items, discount)
        # The timeline says what changed, not the figures: everyone on the order reads it, and prices
        # are for the money roles (workflow/privacy.py); the figures are kept in the payload.
        what = [f"{i.series} {i.model} 单价" for i in changed]
        if discount != order_discount_before:
            what.append("整单优惠")
        await apply(
            step,
            actor=actor,
            order=order,
            event={
                "what": "、".join(what),
                "before": str(before),
                "after": str(order.contract_amount),
                "prices": {str(i.id): str(i.unit_price) for i in changed},
                "discount": str(discount),
            },
        )
        await review_prices(actor=actor, order=order, after_confirmation=after_confirmation)
    return order
