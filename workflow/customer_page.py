"""Staff's side of the customer's own page (客户查看链接): the link to send, and taking every link back.

Who may do either is the order table's (share_customer_page, revoke_customer_page); the link itself is
workflow/customer_link.py's.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models import Order, Staff
from workflow.customer_link import customer_page_url, revoke_customer_links
from workflow.lifecycle import apply
from workflow.order_lifecycle import ORDER


async def customer_link_for(*, actor: Staff, order: Order) -> str:
    """The link to the order's page, for a member who may send it."""
    await ORDER.check(ORDER["share_customer_page"], actor, order)
    return customer_page_url(order)


async def revoke_customer_page(*, actor: Staff, order: Order) -> None:
    """收回客户链接: every link to the order's page sent so far stops working; the next one is new."""
    step = ORDER["revoke_customer_page"]
    await ORDER.check(step, actor, order)
    async with in_transaction():
        await revoke_customer_links(order)
        await apply(step, actor=actor, order=order)
