"""Moving an order from one state to another: the one conditional update every transition uses.

Of two people acting at once, exactly one update matches the expected state; the loser gets False.
It also stamps when the order reached the stage, which the managers' numbers are made of.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from infra.timeutil import utcnow
from models import Order, OrderState

STAGE_STAMPS = {
    OrderState.MEASURED: "measured_at",
    OrderState.DESIGNED: "designed_at",
    OrderState.CONFIRMED: "confirmed_at",
    OrderState.IN_STOCK: "in_stock_at",
    OrderState.INSTALLED: "installed_at",
    OrderState.SIGNED: "signed_at",
    OrderState.VISITED: "visited_at",
}


async def move(order: Order, *, to: OrderState, expected: OrderState | Iterable[OrderState], **values: Any) -> bool:
    """Set the state if it is still `expected`; True when this call moved it (the order is then refreshed)."""
    now = utcnow()
    states = [expected] if isinstance(expected, OrderState) else list(expected)
    changes: dict[str, Any] = {"state": to, "state_since": now, **values}
    if to in STAGE_STAMPS:
        changes[STAGE_STAMPS[to]] = now
    moved = await Order.filter(id=order.id, state__in=states).update(**changes)
    await order.refresh_from_db()
    return bool(moved)
