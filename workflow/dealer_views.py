"""A dealer order as the cards show it (cards/dealers.py DealerOrderView)."""

from __future__ import annotations

from decimal import Decimal

from cards.common import clip
from cards.dealers import DealerOrderView
from models import DealerOrder, DealerOrderKind, DealerOrderLine, DealerOrderState, OrgUnit, Staff
from workflow.pricing import fmt_money


async def dealer_order_view(order: DealerOrder) -> DealerOrderView:
    lines = await DealerOrderLine.filter(order_id=order.id).order_by("id").prefetch_related("product")
    placed_by = await Staff.get(id=order.created_by_id)
    return DealerOrderView(
        id=order.id,
        number=order.number,
        dealer=(await OrgUnit.get(id=order.dealer_id)).name,
        kind_label=DealerOrderKind(order.kind).label,
        state_label=DealerOrderState(order.state).label,
        amount=fmt_money(Decimal(str(order.amount))),
        lines=clip("、".join(f"{line.product.series} {line.product.model} ×{line.quantity}" for line in lines), 60),
        placed_by=placed_by.name,
        factory_number=order.factory_number or "",
    )
