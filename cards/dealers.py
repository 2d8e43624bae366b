"""Cards of a dealer's order (经销商订货): to the dealer managers to accept or return it, to the dealer's staff
when it is decided, to the factory when its pieces are released, and the dealer's links in chat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.common import button_card, callback_button, clip, row, text_notice, url_button
from cards.keys import CardKind, CardRef, DealerStepKey
from infra.runtime import Links


@dataclass(frozen=True)
class DealerOrderView:
    """What a card says of a dealer order: no customer, only the dealer and its lines."""

    id: int
    number: str
    dealer: str
    kind_label: str
    state_label: str
    amount: str  # ¥12,800.00
    lines: str  # K5 ×2、S1 ×1
    placed_by: str
    factory_number: str = ""


def order_url(links: Links, order: DealerOrderView) -> str:
    return links.oauth(f"/h5/dealer/orders/{order.number}")


def dealer_order_card(
    to: list[str], order: DealerOrderView, *, steps: list[tuple[str, str]], links: Links
) -> dict[str, Any]:
    """To dealer managers: a submitted order, 接单 one tap away; 退回 needs a reason, on the order's page."""
    buttons = [callback_button(label, DealerStepKey(order_id=order.id, step=name).pack()) for name, label in steps]
    buttons.append(url_button("查看/退回", order_url(links, order)))
    return button_card(
        to,
        task_id=CardRef(CardKind.DEALER_ORDER, order.id).new_task_id(),
        title="经销商订货单待接单",
        desc=clip(order.dealer, 40),
        rows=[
            row("订货单", order.number),
            row("类型", order.kind_label),
            row("金额", order.amount),
            row("下单人", order.placed_by),
            row("产品", order.lines),
        ],
        buttons=buttons,
        url=order_url(links, order),
    )


def dealer_notice_card(to: list[str], order: DealerOrderView, *, title: str, text: str, links: Links) -> dict[str, Any]:
    rows = [row("金额", order.amount), row("状态", order.state_label)]
    if order.factory_number:
        rows.insert(0, row("工厂订单号", order.factory_number))
    return text_notice(
        to,
        task_id=CardRef(CardKind.DEALER_NOTICE, order.id).new_task_id(),
        title=title,
        desc=f"订货单 {order.number} · {order.kind_label}",
        rows=rows,
        quote=text or None,
        url=order_url(links, order),
    )


def dealer_released_card(to: list[str], order: DealerOrderView, *, pieces: int, links: Links) -> dict[str, Any]:
    url = links.oauth("/h5/production", order=order.factory_number)
    return text_notice(
        to,
        task_id=CardRef(CardKind.DEALER_RELEASED, order.id).new_task_id(),
        title="经销商订单下达生产",
        desc=clip(order.dealer, 40),
        rows=[row("工厂订单号", order.factory_number), row("件数", f"{pieces} 件"), row("产品", order.lines)],
        url=url,
        jumps=[("生产进度", url)],
    )


def dealer_links_card(userid: str, staff_id: int, *, links: Links, manager: bool, owed: str) -> dict[str, Any]:
    """订货 in chat: the catalogue and the order list (a manager: the list to accept from)."""
    orders = links.oauth("/h5/dealer/orders")
    jumps = (
        [("订货单列表", orders)] if manager else [("产品目录·订货", links.oauth("/h5/dealer")), ("我的订货单", orders)]
    )
    return text_notice(
        userid,
        task_id=CardRef(CardKind.DEALER_LINKS, staff_id).new_task_id(),
        title="经销商订货" if not manager else "经销商订货单",
        desc="从目录下单，跟踪每张订货单和每件产品" if not manager else "接单或退回经销商的订货单",
        rows=[] if manager else [row("应付", owed)],
        url=orders,
        jumps=jumps,
    )
