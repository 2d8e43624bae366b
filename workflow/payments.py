"""Confirmation and payment: the customer accepts the design and pays, fully or in part (003: payments)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from tortoise.transactions import in_transaction

from models import EventKind, Order, Payment, PaymentKind, PaymentMethod, Staff
from workflow import notify, timeline
from workflow.errors import Conflict, Invalid
from workflow.fields import AMOUNT, CONTRACT_AMOUNT
from workflow.lifecycle import apply, members_for
from workflow.order_lifecycle import ORDER

MAX_AMOUNT = Decimal("99999999.99")


def parse_amount(text: str, field: str) -> Decimal:
    rule = {r.name: r for r in (AMOUNT, CONTRACT_AMOUNT)}.get(field)
    if rule is not None and (problem := rule.check(text)):
        raise Invalid(problem, field)
    try:
        amount = Decimal(text.strip().replace(",", "").replace("¥", "")).quantize(Decimal("0.01"))
    except (InvalidOperation, AttributeError) as exc:
        raise Invalid("金额格式不正确", field) from exc
    if amount <= 0 or amount > MAX_AMOUNT or not amount.is_finite():
        raise Invalid("金额应大于 0", field)
    return amount


@dataclass(frozen=True)
class PaymentSummary:
    contract: Decimal | None
    paid: Decimal
    payments: list[Payment]

    @property
    def outstanding(self) -> Decimal | None:
        return None if self.contract is None else self.contract - self.paid


async def payment_summary(order: Order) -> PaymentSummary:
    payments = await Payment.filter(order_id=order.id).order_by("id").prefetch_related("recorded_by")
    return PaymentSummary(order.contract_amount, sum((p.amount for p in payments), Decimal("0")), payments)


async def _add_payment(
    actor: Staff, order: Order, *, amount: Decimal, method: PaymentMethod, kind: PaymentKind, note: str
) -> Payment:
    summary = await payment_summary(order)
    if summary.outstanding is not None and amount > summary.outstanding:
        raise Invalid(f"收款 {amount} 元超过未收金额 {summary.outstanding} 元", "amount")
    if kind == PaymentKind.FULL and summary.outstanding is not None and amount != summary.outstanding:
        raise Invalid(f"全款应为未收金额 {summary.outstanding} 元", "amount")
    payment = await Payment.create(
        order=order, amount=amount, method=method, kind=kind, recorded_by=actor, note=note.strip()[:255]
    )
    await timeline.record(order, actor, EventKind.PAYMENT, amount=str(amount), kind=kind.label, method=method.label)
    return payment


async def confirm_design(
    *,
    actor: Staff,
    order: Order,
    contract_amount: Decimal,
    first_payment: Decimal,
    method: PaymentMethod,
    kind: PaymentKind,
    note: str = "",
) -> Order:
    """The customer accepted the design and paid (deposit or full): the order goes to production."""
    step = ORDER["confirm"]
    await ORDER.check(step, actor, order)
    if first_payment > contract_amount:
        raise Invalid("首付款不能超过合同金额", "amount")
    async with in_transaction():
        await apply(
            step, actor=actor, order=order, event={"amount": str(contract_amount)}, contract_amount=contract_amount
        )
        await _add_payment(actor, order, amount=first_payment, method=method, kind=kind, note=note)
        await notify.confirmed(order, await members_for(ORDER["receive_item"], order))
    return order


async def record_payment(
    *, actor: Staff, order: Order, amount: Decimal, method: PaymentMethod, kind: PaymentKind, note: str = ""
) -> Payment:
    """A later payment (the balance, or part of it)."""
    await ORDER.check(ORDER["record_payment"], actor, order)
    if order.contract_amount is None:
        raise Conflict("请先确认设计并填写合同金额")
    async with in_transaction():
        return await _add_payment(actor, order, amount=amount, method=method, kind=kind, note=note)
