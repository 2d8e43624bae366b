"""Receipts (收据): a PDF Relay draws for one payment or for the whole order, with the company's name,
the order's lines and what is paid and owed. The figures are read first; the drawing runs in a thread
after, outside any transaction.

Who may open one: the order's salesperson, finance and managers over the order. Who sees its money
(invoices on the order page): the same people.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from cards.receipt import Receipt, ReceiptLine, draw_receipt
from infra.runtime import runtime
from infra.timeutil import local, local_today
from models import Customer, Order, OrderItem, Payment, Role, Staff
from workflow.errors import Conflict, NotAllowed, NotFound
from workflow.payments import payment_summary
from workflow.scope import covers


async def may_see_money(staff: Staff, order: Order) -> bool:
    if order.sales_id == staff.id:
        return True
    return (staff.has_role(Role.FINANCE) or staff.has_role(Role.MANAGER)) and await covers(staff, order)


async def may_print_receipt(staff: Staff, order: Order) -> bool:
    return order.contract_amount is not None and await may_see_money(staff, order)


def receipt_number(order: Order, payment: Payment | None) -> str:
    return f"SJ-{order.number}" + (f"-{payment.id}" if payment is not None else "")


async def receipt_for(staff: Staff, order: Order, payment_id: int | None = None) -> tuple[str, bytes]:
    """The receipt's file name and PDF."""
    if not await may_see_money(staff, order):
        raise NotAllowed("只有订单的销售、财务或管理层可以打印收据")
    if order.contract_amount is None:
        raise Conflict("订单尚未确认合同金额，不能开收据")
    payment = None
    if payment_id is not None:
        payment = await Payment.get_or_none(id=payment_id, order_id=order.id)
        if payment is None:
            raise NotFound("这笔收款不存在")
        if payment.voided_at is not None:
            raise Conflict("这笔收款已作废，不能开收据")
    summary = await payment_summary(order)
    customer = await Customer.get(id=order.customer_id)
    items = await OrderItem.filter(order_id=order.id).order_by("id")
    lines = [
        ReceiptLine(
            product=f"{i.series} {i.model}",
            room=i.room or "",
            quantity=i.quantity,
            unit_price=i.unit_price,
            amount=i.amount,
        )
        for i in items
    ]
    contract = summary.contract or Decimal("0")
    receipt = Receipt(
        number=receipt_number(order, payment),
        company=runtime().config.money.company_name,
        order_number=order.number,
        customer_name=customer.name,
        lines=lines,
        contract=contract,
        paid=summary.paid,
        outstanding=contract - summary.paid,
        day=local(payment.created_at).date() if payment is not None else local_today(),
        payment_amount=payment.amount if payment is not None else None,
        payment_text=f"{payment.kind.label}，{payment.method.label}" if payment is not None else "",
    )
    pdf = await asyncio.to_thread(draw_receipt, receipt)
    return f"收据-{receipt.number}.pdf", pdf
