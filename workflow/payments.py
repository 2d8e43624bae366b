"""Confirmation and payment: the customer accepts the design and pays, fully or in part (003: payments)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from tortoise.transactions import in_transaction

from infra.timeutil import utcnow
from models import EventKind, Order, Payment, PaymentKind, PaymentMethod, Staff
from workflow import notify, owed, timeline, webhooks
from workflow.errors import Conflict, Invalid, NotFound
from workflow.fields import AMOUNT, CONTRACT_AMOUNT
from workflow.lifecycle import apply, members_for
from workflow.order_lifecycle import ORDER
from workflow.production import release_if_ready

MAX_AMOUNT = Decimal("99999999.99")


def is_priced(order: Order) -> bool:
    """Whether every line has a price: the contract amount is then computed, never typed."""
    return order.list_amount is not None and order.contract_amount is not None


def parse_amount(text: str, field: str) -> Decimal:
    rule = {r.name: r for r in (AMOUNT, CONTRACT_AMOUNT)}.get(field)
    if rule is not None and (problem := rule.check(text)):
        raise Invalid(problem, field)
    try:
        typed = Decimal(text.strip().replace(",", "").replace("¥", ""))
        amount = typed.quantize(Decimal("0.01"))
    except (InvalidOperation, AttributeError) as exc:
        raise Invalid("金额格式不正确", field) from exc
    if typed != amount:  # a third decimal is refused, never rounded away
        raise Invalid("金额最多两位小数", field)
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
    """Every payment, voided ones too (listed as 已作废); only those standing count as paid."""
    payments = (
        await Payment.filter(order_id=order.id)
        .order_by("id")
        .prefetch_related("recorded_by", "voided_by", "confirmed_by")
    )
    paid = sum((p.amount for p in payments if p.voided_at is None), Decimal("0"))
    return PaymentSummary(order.contract_amount, paid, payments)


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
    await owed.count_in(order, amount)
    await timeline.record(order, actor, EventKind.PAYMENT, amount=str(amount), kind=kind.label, method=method.label)
    await webhooks.emit(
        webhooks.PAYMENT_RECORDED,
        {
            "order_number": order.number,
            "payment_id": payment.id,
            "amount": str(amount),
            "kind": kind.value,
            "method": method.value,
            "recorded_by": actor.userid,
        },
    )
    await _to_finance(order, payment)
    return payment


async def _to_finance(order: Order, payment: Payment) -> None:
    """The payment is 待确认: finance of the order's unit gets the card to confirm it (what is still owed as
    counted just now, owed.count_in)."""
    await notify.payment_recorded(
        order, payment, await members_for(ORDER["confirm_payment"], order), outstanding=owed.balance(order)
    )


async def confirm_design(
    *,
    actor: Staff,
    order: Order,
    contract_amount: Decimal | None,
    first_payment: Decimal,
    method: PaymentMethod,
    kind: PaymentKind,
    note: str = "",
) -> Order:
    """The customer accepted the design and paid (deposit or full): the order goes to production.
    A priced order's contract amount is the one its lines add up to (`contract_amount` is not asked
    for, and ignored); an order without prices takes the amount typed here."""
    step = ORDER["confirm"]
    await ORDER.check(step, actor, order)
    if is_priced(order):
        contract_amount = order.contract_amount
    if contract_amount is None:
        raise Invalid("请填写合同金额", "contract_amount")
    if first_payment > contract_amount:
        raise Invalid("首付款不能超过合同金额", "amount")
    async with in_transaction():
        await apply(
            step, actor=actor, order=order, event={"amount": str(contract_amount)}, contract_amount=contract_amount
        )
        await _add_payment(actor, order, amount=first_payment, method=method, kind=kind, note=note)
        await notify.confirmed(order, await members_for(ORDER["receive_item"], order))
    await release_if_ready(order)
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


async def _standing_payment(actor: Staff, order: Order, payment_id: int, reason: str) -> tuple[Payment, str]:
    await ORDER.check(ORDER["void_payment"], actor, order)
    payment = await Payment.get_or_none(id=payment_id, order_id=order.id)
    if payment is None:
        raise NotFound("这笔收款不存在")
    if payment.voided_at is not None:
        raise Conflict("这笔收款已作废", "已作废")
    reason = reason.strip()
    if not reason:
        raise Invalid("请填写作废或更正的原因", "reason")
    return payment, reason[:255]


async def _void(actor: Staff, order: Order, payment: Payment, reason: str) -> None:
    moved = await Payment.filter(id=payment.id, voided_at__isnull=True).update(
        voided_at=utcnow(), voided_by_id=actor.id, void_reason=reason
    )
    if not moved:
        raise Conflict("这笔收款已作废", "已作废")
    await owed.count_in(order, -payment.amount)
    if payment.confirmed_at is None:
        await notify.payment_voided(payment)


async def void_payment(*, actor: Staff, order: Order, payment_id: int, reason: str) -> Payment:
    """A payment recorded by mistake: it stays listed as 已作废 and no longer counts as paid."""
    payment, reason = await _standing_payment(actor, order, payment_id, reason)
    async with in_transaction():
        await _void(actor, order, payment, reason)
        await apply(
            ORDER["void_payment"], actor=actor, order=order, event={"amount": str(payment.amount), "reason": reason}
        )
        await notify.payment_corrected(order, by=actor, text=f"作废收款 {payment.amount} 元：{reason}")
    await payment.refresh_from_db()
    return payment


async def correct_payment(
    *,
    actor: Staff,
    order: Order,
    payment_id: int,
    amount: Decimal,
    method: PaymentMethod,
    kind: PaymentKind,
    reason: str,
) -> Payment:
    """A payment recorded wrong (amount, method or kind): the old one is voided and the right one
    recorded in its place, both kept."""
    payment, reason = await _standing_payment(actor, order, payment_id, reason)
    summary = await payment_summary(order)
    if summary.outstanding is not None and amount > summary.outstanding + payment.amount:
        raise Invalid(f"更正后收款 {amount} 元超过未收金额 {summary.outstanding + payment.amount} 元", "amount")
    async with in_transaction():
        await _void(actor, order, payment, reason)
        corrected = await Payment.create(
            order=order,
            amount=amount,
            method=method,
            kind=kind,
            recorded_by=actor,
            note=f"更正 {payment.amount} 元：{reason}"[:255],
        )
        await owed.count_in(order, amount)
        await _to_finance(order, corrected)
        await timeline.record(
            order,
            actor,
            EventKind.PAYMENT_CORRECTED,
            old=str(payment.amount),
            amount=str(amount),
            kind=kind.label,
            method=method.label,
            reason=reason,
        )
        text = f"收款 {payment.amount} 元更正为 {amount} 元：{reason}"
        await notify.payment_corrected(order, by=actor, text=text)
    return corrected
