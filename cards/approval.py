"""The price review (审核) cards: the approver's 同意 / 驳回, and what sales hears of the decision.

WeCom's template cards have buttons and selects but no free-text input (message/send, template_card:
button_interaction, vote_interaction, multiple_interaction), so 驳回, which needs a reason, opens the
order's review page; 同意 is a callback button.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.common import button_card, callback_button, row, text_notice, url_button
from cards.keys import ApproveKey, CardKind, CardRef
from cards.views import OrderView
from infra.runtime import Links


@dataclass(frozen=True)
class ReviewFigures:
    """What an approver is asked about, as it reads (amounts already formatted)."""

    level: str  # 门店审核（上海徐汇店）
    list_amount: str
    contract_amount: str
    discount: str
    reasons: list[str]
    lines: list[str]


def approval_card(
    to: list[str], order: OrderView, *, approval_id: int, figures: ReviewFigures, review_path: str, links: Links
) -> dict[str, Any]:
    page = links.oauth(review_path)
    return button_card(
        to,
        task_id=CardRef(CardKind.APPROVAL, approval_id).new_task_id(),
        title="价格待审核",
        desc=f"订单 {order.number} · {order.customer_name}",
        rows=[
            row("审核", figures.level),
            row("标价合计", f"{figures.list_amount} 元"),
            row("合同金额", f"{figures.contract_amount} 元"),
            row("整单折扣", figures.discount),
            row("销售", order.sales_name),
        ],
        quote="\n".join([*figures.reasons, *figures.lines]),
        buttons=[
            callback_button("同意", ApproveKey(approval_id=approval_id).pack()),
            url_button("驳回（填写原因）", page, style=2),
        ],
        url=page,
    )


def approval_result_card(
    to: str, order: OrderView, *, title: str, text: str, edit_path: str | None, links: Links
) -> dict[str, Any]:
    """To sales: approved, or rejected with the reason and a link to where the prices are changed."""
    url = links.oauth(f"/h5/orders/{order.number}")
    jumps = [("修改价格", links.oauth(f"/h5/orders/{order.number}{edit_path}"))] if edit_path is not None else None
    return text_notice(
        to,
        task_id=CardRef(CardKind.APPROVAL_RESULT, order.id).new_task_id(),
        title=title,
        desc=f"订单 {order.number} · {order.customer_name}",
        quote=text,
        url=url,
        jumps=jumps,
    )
