"""Cards about reaching the customer: a milestone's message for the salesperson to send on."""

from __future__ import annotations

from typing import Any

from cards.common import button_card, callback_button, row, text_notice, url_button
from cards.keys import CardKind, CardRef, CustomerSendKey, CustomerSmsKey


def milestone_card(
    touser: str,
    *,
    order_id: int,
    order_number: str,
    customer: str,
    milestone: str,
    title: str,
    text: str,
    can_send: bool,
    why_not: str,
    no_contact: bool,
    budget: str,
    contact_url: str,
    order_url: str,
    sms: bool,
) -> dict[str, Any]:
    """The prepared message, and one tap to send it to the customer's WeChat (a mass-send task the
    salesperson then confirms in WeCom). When it cannot go that way, the card says why and offers the
    text to copy (the quote), the 「联系我」 QR code, or an SMS."""
    task_id = CardRef(CardKind.CUSTOMER_MILESTONE, order_id).new_task_id()
    rows = [row("订单", order_number), row("客户", customer), row("本月群发", budget)]
    if can_send:
        buttons = [callback_button("发给客户", CustomerSendKey(order_id, milestone).pack())]
        desc = "点“发给客户”后，在企业微信里确认发送"
    else:
        buttons = [url_button("客户二维码", contact_url)] if no_contact else []
        desc = "请复制下方文字发给客户"
        rows.append(row("不能群发", why_not))
    if sms:
        buttons.append(callback_button("发短信", CustomerSmsKey(order_id, milestone).pack(), style=2))
    if not buttons:
        return text_notice(touser, task_id=task_id, title=title, desc=desc, url=order_url, rows=rows, quote=text)
    return button_card(
        touser, task_id=task_id, title=title, desc=desc, rows=rows, buttons=buttons, url=order_url, quote=text
    )
