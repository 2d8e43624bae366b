"""What an order still owes: its contract amount less its standing (not voided) payments.

The standing payments' total is stored on the order (`Order.paid_amount`), so 未收清 is read from the
orders alone instead of summing every payment (on a million orders: 1.2 s for the company's figure, see
bench/results/issue12-money-stats.md). It is kept here and only here, in the caller's transaction, by one
atomic update per payment counted in or out (`paid_amount = paid_amount + x`): two payments recorded at
once both count, whoever commits first. Nothing writes it from an order loaded earlier (an `order.save()`
would put back a stale total: orders are changed by `filter(...).update(...)`, see workflow.lifecycle).

Readers: workflow.stats_money (outstanding), workflow.receivables (the 未收清 list), workflow.queue (sales'
orders still to collect), workflow.alerts (balance overdue).
"""

from __future__ import annotations

from decimal import Decimal

from tortoise.expressions import F
from tortoise.queryset import QuerySet

from models import Order, OrderState
from workflow.errors import Invalid

# Orders still owing, not cancelled: the condition of the partial index idx_order_owing (migration 0017).
# A query wanting that index repeats it word for word (SQLite matches the terms as written). A difference,
# not `contract_amount > paid_amount`: SQLite stores decimals as text and would compare the texts.
CANCELLED = OrderState.CANCELLED.value
CENT = Decimal("0.01")


def owing_sql(alias: str = "") -> str:
    """The index's condition, for a query over "order" (as `alias`, if given)."""
    a = f"{alias}." if alias else ""
    return f"{a}state <> '{CANCELLED}' AND {a}contract_amount - {a}paid_amount > 0"


def owing(orders: QuerySet[Order]) -> QuerySet[Order]:
    """These orders, those whose contract is more than their standing payments (any state)."""
    return orders.annotate(still_owed=F("contract_amount") - F("paid_amount")).filter(still_owed__gt=0)


def balance(order: Order) -> Decimal | None:
    """What the order still owes (None: no contract yet); negative if paid beyond a contract lowered since."""
    if order.contract_amount is None:
        return None
    return Decimal(order.contract_amount) - Decimal(order.paid_amount)


async def count_in(order: Order, amount: Decimal) -> None:
    """Count a standing payment in the order's paid total (negative: a voided one out), in the caller's
    transaction. One atomic update: on PostgreSQL it holds the order's row until the transaction ends, so
    a second payment recorded at once waits, then adds to this one's total. A payment that would take the
    standing payments beyond the contract is refused (Invalid: the caller's transaction rolls back), so two
    recorded at once cannot together pass it."""
    await Order.filter(id=order.id).update(paid_amount=F("paid_amount") + amount)
    paid, contract = (await Order.filter(id=order.id).values_list("paid_amount", "contract_amount"))[0]
    order.paid_amount = Decimal(paid).quantize(CENT)
    if amount > 0 and contract is not None and order.paid_amount > contract:
        left = Decimal(contract) - (order.paid_amount - amount)
        raise Invalid(f"收款 {amount} 元超过未收金额 {left:.2f} 元", "amount")
