"""Cards about what a customer asked for on their own order page."""

from __future__ import annotations

from datetime import date
from typing import Any

from cards.common import button_card, callback_button, row, url_button
from cards.keys import CardKind, CardRef, RequestHandledKey
from cards.views import OrderView
from infra.runtime import Links
from models import TaskKind


def reschedule_request_card(
    to: list[str],
    order: OrderView,
    *,
    request_id: int,
    kind: TaskKind,
    booked: date,
    wanted: str,
    note: str,
    changes_path: str,
    links: Links,
) -> dict[str, Any]:
    """To the dispatchers over the order: the customer's wish, the page to reschedule on, and 已处理."""
    return button_card(
        to,
        task_id=CardRef(CardKind.CUSTOMER_REQUEST, request_id).new_task_id(),
        title=f"客户申请{kind.label}改期",
        desc=f"订单 {order.number} · {order.customer_name}",
        rows=[row("原定日期", booked.isoformat()), row("客户希望", wanted), row("地址", order.address)],
        quote=f"客户留言：{note}" if note else None,
        buttons=[
            url_button("去改期", links.oauth(changes_path), style=1),
            callback_button("已处理", RequestHandledKey(request_id=request_id, kind=kind.value).pack(), style=2),
        ],
        url=links.oauth(f"/h5/orders/{order.number}"),
    )
