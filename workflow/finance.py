"""Finance (财务): confirming that recorded money arrived, and invoices (发票) against the contract.

A payment sales records is 待确认 until a finance member of the order's unit confirms it (the row
`confirm_payment` of the order's lifecycle); invoices are issued by the same members, never beyond
the contract amount. Receipts (收据) are drawn in workflow/receipts.py, what is owed in
workflow/receivables.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from infra.storage import StoredFile
from infra.timeutil import local_today, utcnow
from models import Invoice, Order, OrgUnit, Payment, Role, Staff
from workflow import notify
from workflow.errors import Conflict, Invalid, NotFound
from workflow.fields import FieldRule
from workflow.lifecycle import apply
from workflow.order_lifecycle import ORDER, PAID_STATES
from workflow.production import release_if_ready
from workflow.scope import require_role

MAX_AMOUNT = Decimal("99999999.99")

# 纳税人识别号: the unified social credit code (18), or the older 15 or 20, of digits and capital letters.
TAX_ID = FieldRule(
    "buyer_tax_id",
    required="请填写购买方税号",
    max_length=20,
    pattern=r"[0-9A-Z]{15}|[0-9A-Z]{18}|[0-9A-Z]{20}",
    mismatch="税号应为 15、18 或 20 位数字或大写字母",
)
INVOICE_AMOUNT = FieldRule(
    "amount",
    required="请填写发票金额",
    max_length=20,
    pattern=r"¥?[0-9][0-9,]*(?:\.[0-9]{1,2})?",
    mismatch="金额格式不正确（最多两位小数）",
)
INVOICE_NUMBER = FieldRule(
    "number",
    required="请填写发票号码",
    max_length=32,
    pattern=r"[0-9A-Za-z\-]{1,32}",
    mismatch="发票号码只能包含数字、字母和 -",
)


def parse_money(text: str, field: str) -> Decimal:
    """An amount in yuan: more than 0, at most two decimals (a third is refused, not rounded)."""
    raw = (text or "").strip().replace(",", "").replace("¥", "")
    if not raw:
        raise Invalid("请填写金额", field)
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?|-[0-9.]+", raw):
        raise Invalid("金额格式不正确", field)
    try:
        amount = Decimal(raw)
    except InvalidOperation as exc:
        raise Invalid("金额格式不正确", field) from exc
    if amount <= 0:
        raise Invalid("金额应大于 0", field)
    if amount != amount.quantize(Decimal("0.01")):
        raise Invalid("金额最多两位小数", field)
    if amount > MAX_AMOUNT:
        raise Invalid("金额过大", field)
    return amount.quantize(Decimal("0.01"))


def payment_status(payment: Payment) -> str:
    """How a payment reads in lists: 已作废, 已确认 (by whom, when) or 待确认."""
    if payment.voided_at is not None:
        return "已作废"
    if payment.confirmed_at is not None:
        return "已确认"
    return "待确认"


# Confirming payments (确认到账)


async def confirm_payment(*, actor: Staff, order: Order, payment_id: int) -> Payment:
    """Finance says the money arrived. Of two confirming at once one wins; the other hears who did."""
    step = ORDER["confirm_payment"]
    await ORDER.check(step, actor, order)
    payment = await Payment.get_or_none(id=payment_id, order_id=order.id)
    if payment is None:
        raise NotFound("这笔收款不存在")
    if payment.voided_at is not None:
        raise Conflict("这笔收款已作废，不能确认", "已作废")
    async with in_transaction():
        moved = await Payment.filter(id=payment.id, confirmed_at__isnull=True, voided_at__isnull=True).update(
            confirmed_at=utcnow(), confirmed_by_id=actor.id
        )
        if not moved:
            await payment.refresh_from_db()
            await payment.fetch_related("confirmed_by")
            if payment.voided_at is not None:
                raise Conflict("这笔收款已作废，不能确认", "已作废")
            who = payment.confirmed_by.name if payment.confirmed_by else "别人"
            raise Conflict(f"这笔收款已由 {who} 确认到账", f"已由{who}确认")
        await apply(step, actor=actor, order=order, event={"amount": str(payment.amount)})
        await notify.payment_confirmed(order, payment, by=actor)
    await payment.refresh_from_db()
    await release_if_ready(order)  # a confirmed deposit may be all that held the order back
    return payment


@dataclass(frozen=True)
class PendingPayment:
    payment: Payment
    order: Order


async def pending_payments(staff: Staff, *, limit: int = 200) -> list[PendingPayment]:
    """Payments waiting for confirmation in the member's part of the company, oldest first (finance)."""
    require_role(staff, Role.FINANCE)
    unit = await OrgUnit.get(id=staff.org_unit_id)
    payments = (
        await Payment.filter(
            Q(confirmed_at__isnull=True, voided_at__isnull=True),
            order__org_unit__path__startswith=unit.path,
            order__state__in=list(PAID_STATES),
        )
        .order_by("created_at", "id")
        .limit(limit)
        .prefetch_related("order", "recorded_by")
    )
    return [PendingPayment(p, p.order) for p in payments]


# Invoices (发票)


@dataclass(frozen=True)
class InvoiceInput:
    number: str
    amount: str
    issued_on: str
    buyer_tax_id: str


async def invoices_of(order: Order) -> list[Invoice]:
    return await Invoice.filter(order_id=order.id).order_by("id").prefetch_related("issued_by")


def _invoiced(invoices: list[Invoice]) -> Decimal:
    return sum((i.amount for i in invoices if i.voided_at is None), Decimal("0"))


def check_invoice(form: InvoiceInput) -> tuple[str, Decimal, date, str]:
    errors: dict[str, str] = {}
    number, tax_id = form.number.strip(), form.buyer_tax_id.strip()
    if problem := INVOICE_NUMBER.check(number):
        errors["number"] = problem
    if problem := TAX_ID.check(tax_id):
        errors["buyer_tax_id"] = problem
    amount = Decimal("0")
    try:
        amount = parse_money(form.amount, "amount")
    except Invalid as refused:
        errors["amount"] = refused.message
    issued_on = local_today()
    if form.issued_on.strip():
        try:
            issued_on = date.fromisoformat(form.issued_on.strip())
        except ValueError:
            errors["issued_on"] = "日期格式不正确"
        else:
            if issued_on > local_today():
                errors["issued_on"] = "开票日期不能晚于今天"
    if errors:
        raise Invalid.several(errors)
    return number, amount, issued_on, tax_id


async def issue_invoice(
    *, actor: Staff, order: Order, form: InvoiceInput, stored: StoredFile | None = None, filename: str = ""
) -> Invoice:
    """An invoice against the order: never more in all than the contract amount."""
    step = ORDER["issue_invoice"]
    await ORDER.check(step, actor, order)
    number, amount, issued_on, tax_id = check_invoice(form)
    async with in_transaction():
        # The order's row, locked: two invoices issued at once cannot both fit under the contract.
        await Order.select_for_update().filter(id=order.id).first()
        await order.refresh_from_db()
        contract = order.contract_amount or Decimal("0")
        invoiced = _invoiced(await Invoice.filter(order_id=order.id))
        if invoiced + amount > contract:
            raise Invalid(
                f"开票总额不能超过合同金额 {contract} 元（已开 {invoiced} 元，最多还可开 {contract - invoiced} 元）",
                "amount",
            )
        if await Invoice.filter(number=number).exists():
            raise Invalid(f"发票号码 {number} 已登记", "number")
        invoice = await Invoice.create(
            order=order,
            number=number,
            amount=amount,
            issued_on=issued_on,
            buyer_tax_id=tax_id,
            file_sha256=stored.sha256 if stored else None,
            file_type=stored.content_type if stored else None,
            filename=filename[:255] if stored else "",
            issued_by=actor,
        )
        await apply(step, actor=actor, order=order, event={"number": number, "amount": str(amount)})
    return invoice


async def void_invoice(*, actor: Staff, order: Order, invoice_id: int, reason: str) -> Invoice:
    """An invoice issued by mistake (作废): kept and listed as voided; it no longer counts as invoiced."""
    step = ORDER["void_invoice"]
    await ORDER.check(step, actor, order)
    invoice = await Invoice.get_or_none(id=invoice_id, order_id=order.id)
    if invoice is None:
        raise NotFound("这张发票不存在")
    reason = reason.strip()
    if not reason:
        raise Invalid("请填写作废的原因", "reason")
    async with in_transaction():
        moved = await Invoice.filter(id=invoice.id, voided_at__isnull=True).update(
            voided_at=utcnow(), void_reason=reason[:255]
        )
        if not moved:
            raise Conflict(f"发票 {invoice.number} 已作废", "已作废")
        event = {"number": invoice.number, "amount": str(invoice.amount), "reason": reason[:255]}
        await apply(step, actor=actor, order=order, event=event)
    await invoice.refresh_from_db()
    return invoice
