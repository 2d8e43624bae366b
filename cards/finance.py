"""Cards for finance (财务): a recorded payment waiting for 确认到账."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cards.common import button_card, callback_button, row
from cards.keys import CardKind, CardRef, ConfirmPaymentKey
from cards.views import OrderView
from infra.runtime import Links


def payment_card(
    to: list[str],
    order: OrderView,
    *,
    payment_id: int,
    amount: Decimal,
    kind: str,
    method: str,
    recorded_by: str,
    outstanding: Decimal | None,
    links: Links,
) -> dict[str, Any]:
    rows = [
        row("金额", f"¥{amount:.2f}"),
        row("类型", f"{kind} · {method}"),
        row("登记人", recorded_by),
    ]
    if outstanding is not None:
        rows.append(row("登记后未收", f"¥{outstanding:.2f}"))
    return button_card(
        to,
        task_id=CardRef(CardKind.PAYMENT, payment_id).new_task_id(),
        title="收款待确认",
        desc=f"订单 {order.number} · {order.customer_name}",
        rows=rows,
        quote="请核对款项已到账后点“确认到账”",
        buttons=[callback_button("确认到账", ConfirmPaymentKey(payment_id=payment_id).pack())],
        url=links.oauth(f"/h5/orders/{order.number}/confirm-payments"),
    )
