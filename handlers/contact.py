"""Reaching the customer: 发给客户 / 发短信 on a milestone card, and customers adding a salesperson."""

from __future__ import annotations

from bot.events import ExternalContactAdded
from cards.keys import CustomerSendKey, CustomerSmsKey
from handlers.router import Ctx, Router
from infra.runtime import runtime
from workflow.contact import customer_added, order_for_tap, parse_milestone, send_milestone
from workflow.customer_link import customer_page_url
from workflow.customer_reach import message_text, sms_configured
from workflow.errors import NotAllowed
from workflow.order_lifecycle import ORDER
from workflow.sms import queue_sms

router = Router("contact", roles=ORDER.roles_of("contact_customer"))


@router.click(CustomerSendKey)
async def send_to_customer(ctx: Ctx, key: CustomerSendKey) -> None:
    order = await order_for_tap(ctx.staff, key.order_id)
    await send_milestone(actor=ctx.staff, order=order, milestone=parse_milestone(key.milestone))
    await ctx.mark_card("已生成群发任务，请在企业微信确认")


@router.click(CustomerSmsKey)
async def sms_to_customer(ctx: Ctx, key: CustomerSmsKey) -> None:
    order = await order_for_tap(ctx.staff, key.order_id)
    await ORDER.check(ORDER["contact_customer"], ctx.staff, order)
    if not sms_configured():
        raise NotAllowed("短信未开通，请复制文字发送")
    customer = await order.customer
    phone = runtime().vault.decrypt(customer.phone_encrypted)
    text = await message_text(order, parse_milestone(key.milestone), customer_page_url(order))
    await queue_sms(
        phone=phone,
        template="milestone",
        params={"1": order.number, "2": text},
        purpose=key.milestone,
        order_id=order.id,
    )
    await ctx.mark_card("短信已排队发送")


async def external_contact_added(event: ExternalContactAdded) -> None:
    """add_external_contact from WeCom (sys): bind and welcome. Called by the dispatcher, in its transaction."""
    await customer_added(event)
