"""Finance (财务): 确认到账 from the card a recorded payment sends; 已处理 on an overdue-balance alert."""

from __future__ import annotations

from cards.keys import AlertHandledKey, ConfirmPaymentKey
from handlers.router import Ctx, Router
from models import Order, Payment
from workflow.alerts import handle_alert
from workflow.errors import NotFound
from workflow.finance import confirm_payment
from workflow.order_lifecycle import ORDER
from workflow.scope import can_see

router = Router("finance", roles=ORDER.roles_of("confirm_payment"))


@router.click(ConfirmPaymentKey)
async def payment_confirmed(ctx: Ctx, key: ConfirmPaymentKey) -> None:
    payment = await Payment.get_or_none(id=key.payment_id)
    order = await Order.get_or_none(id=payment.order_id) if payment is not None else None
    if payment is None or order is None or not await can_see(ctx.staff, order):
        raise NotFound("这笔收款不存在")
    await confirm_payment(actor=ctx.staff, order=order, payment_id=payment.id)
    await ctx.mark_card(f"已由{ctx.staff.name}确认到账")


@router.click(AlertHandledKey)
async def alert_handled(ctx: Ctx, key: AlertHandledKey) -> None:
    await handle_alert(actor=ctx.staff, alert_id=key.alert_id)
    await ctx.mark_card(f"已由{ctx.staff.name}处理")
