"""Customers' personal data under PIPL: who may see a full phone number, and a customer's rights to a
copy of everything held about them and to its erasure.

The full number is for the people who must call the customer (design.md's roles):
- the salesperson who sold the order: confirms the design and the payment with the customer;
- the measure and install dispatchers over the order: confirm the date with the customer;
- the measurer and the installer holding the order's live job: call before they come;
- after-sales over the order: the visit is a phone call.
Designers, the warehouse, managers and admins work without it: every card and list shows it masked.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from infra.runtime import runtime
from infra.security import is_mobile, mask_phone, normalize_phone
from infra.timeutil import local, utcnow
from models import (
    Attachment,
    AttachmentCategory,
    AuditAction,
    Customer,
    EventKind,
    ExternalContact,
    InboxMessage,
    Order,
    OrderEvent,
    OrderItem,
    OutboxMessage,
    Payment,
    Role,
    Signature,
    SmsMessage,
    Staff,
    Task,
    TaskKind,
    Ticket,
    Visit,
)
from workflow import audit
from workflow.errors import Invalid, NotAllowed, NotFound
from workflow.lifecycle import Facts, Scope
from workflow.retention import BATCH, FINISHED, INBOX_KEPT, OUTBOX_KEPT
from workflow.scope import ORDER_NUMBER_RE, covers, require_role
from workflow.timeline import timeline

ERASED = "已删除"


@dataclass(frozen=True)
class Caller:
    """A role that must call the customer, and where it may: its scope, and for an assignee the job."""

    role: Role
    scope: Scope
    job: TaskKind | None = None


CALLERS = (
    Caller(Role.SALES, Scope.OWN),
    Caller(Role.MEASURE_DISPATCHER, Scope.UNIT),
    Caller(Role.INSTALL_DISPATCHER, Scope.UNIT),
    Caller(Role.MEASURER, Scope.ASSIGNEE, TaskKind.MEASURE),
    Caller(Role.INSTALLER, Scope.ASSIGNEE, TaskKind.INSTALL),
    Caller(Role.AFTER_SALES, Scope.UNIT),
)
NOT_A_CALLER = "只有负责联系客户的人员（本单销售、派单员、本单测量/安装师傅、售后客服）可以查看完整号码"


def _holds(caller: Caller, facts: Facts) -> bool:
    actor = facts.actor
    if actor is None or not actor.has_role(caller.role):
        return False
    if caller.scope == Scope.UNIT:
        return facts.in_unit
    if caller.scope == Scope.OWN:
        return facts.own
    assert caller.job is not None
    task = facts.current_task(caller.job)
    return task is not None and task.assignee_id == actor.id


# Prices and amounts are the business's own figures: for who sells, manages, keeps the books or runs
# the catalogue, not for the measurer, the installer or the warehouse (seed 001: 财务数据仅财务可见).
MONEY_ROLES = (Role.SALES, Role.MANAGER, Role.FINANCE, Role.ADMIN)
NO_MONEY = "价格与金额只对销售、管理层、财务和管理员显示"


def sees_money(actor: Staff) -> bool:
    """Whether the member sees an order's prices, contract amount and payments."""
    return any(actor.has_role(r) for r in MONEY_ROLES)


# The money of a whole part of the company (the numbers' 签约/回款/未收清): not sales, who see their orders'.
COMPANY_MONEY_ROLES = (Role.MANAGER, Role.FINANCE, Role.ADMIN)


def sees_company_money(actor: Staff) -> bool:
    """Whether the member's numbers (统计, the daily push, the dashboard) carry money."""
    return any(actor.has_role(r) for r in COMPANY_MONEY_ROLES)


async def may_call(actor: Staff, order: Order) -> bool:
    """Whether the member is one of those who must call this order's customer."""
    if not any(actor.has_role(c.role) for c in CALLERS):
        return False
    facts = await Facts.of(actor, order)
    return any(_holds(c, facts) for c in CALLERS)


async def reveal_phone(*, actor: Staff, order: Order, ip: str = "") -> str:
    """The customer's full number for a member who must call them, recorded in the audit log."""
    if not await may_call(actor, order):
        raise NotAllowed(NOT_A_CALLER)
    customer = await Customer.get(id=order.customer_id)
    phone = phone_of(customer)
    await audit.record(AuditAction.PHONE_REVEAL, actor=actor, order=order, ip=ip)
    return phone


def phone_of(customer: Customer) -> str:
    """The decrypted number, or 已删除 once the customer has been erased."""
    if customer.erased_at is not None or not customer.phone_encrypted:
        return ERASED
    return runtime().vault.decrypt(customer.phone_encrypted)


# A customer's rights (PIPL arts. 45 and 47): a copy of their data, and its erasure. For admins, over
# customers all of whose orders are in their part of the company.


@dataclass(frozen=True)
class CustomerSummary:
    id: int
    name: str
    phone_masked: str
    orders: list[str]
    erased: bool


async def find_customers(actor: Staff, q: str) -> list[CustomerSummary]:
    """Customers by phone (the blind index), order number or name, among the admin's orders."""
    require_role(actor, Role.ADMIN)
    q = q.strip()[:64]
    if not q:
        return []
    phone = normalize_phone(q)
    if is_mobile(phone):
        condition = Q(phone_index=runtime().vault.blind_index(phone))
    elif ORDER_NUMBER_RE.match(q):
        condition = Q(orders__number=q.upper()) | Q(name=q)
    else:
        condition = Q(name=q)
    customers = await Customer.filter(condition).distinct().order_by("id").limit(50)
    found = []
    for customer in customers:
        orders = await Order.filter(customer_id=customer.id).order_by("id")
        if not orders or not all([await covers(actor, o) for o in orders]):
            continue
        phone_text = phone_of(customer)
        found.append(
            CustomerSummary(
                id=customer.id,
                name=customer.name,
                phone_masked=mask_phone(phone_text),
                orders=[o.number for o in orders],
                erased=customer.erased_at is not None,
            )
        )
    return found


async def _customer_for(actor: Staff, customer_id: int) -> tuple[Customer, list[Order]]:
    require_role(actor, Role.ADMIN)
    customer = await Customer.get_or_none(id=customer_id)
    if customer is None:
        raise NotFound("没有找到这位客户")
    orders = await Order.filter(customer_id=customer.id).order_by("id")
    for order in orders:
        if not await covers(actor, order):
            raise NotAllowed(f"客户的订单 {order.number} 不在你负责的范围内，请联系上级管理员")
    return customer, orders


def _when(moment: Any) -> str | None:
    return local(moment).isoformat(timespec="seconds") if moment is not None else None


async def customer_data(customer: Customer, orders: list[Order]) -> dict[str, Any]:
    """Everything Relay holds about the customer, readable: the copy they are owed."""
    data: dict[str, Any] = {
        "customer": {
            "id": customer.id,
            "name": customer.name,
            "phone": phone_of(customer),
            "created_at": _when(customer.created_at),
            "erased_at": _when(customer.erased_at),
        },
        "orders": [],
    }
    for order in orders:
        items = await OrderItem.filter(order_id=order.id).order_by("id")
        payments = await Payment.filter(order_id=order.id).order_by("id")
        visits = await Visit.filter(order_id=order.id).order_by("id")
        tasks = await Task.filter(order_id=order.id).order_by("id").prefetch_related("assignee")
        files = await Attachment.filter(order_id=order.id).order_by("id")
        signature = await Signature.get_or_none(order_id=order.id)
        tickets = await Ticket.filter(order_id=order.id).order_by("id")
        sales = await Staff.get(id=order.sales_id)
        data["orders"].append(
            {
                "number": order.number,
                "state": order.state.label,
                "address": order.address,
                "note": order.note,
                "sales": sales.name,
                "created_at": _when(order.created_at),
                "expected_measure_date": order.expected_measure_date.isoformat()
                if order.expected_measure_date
                else None,
                "contract_amount": None if order.contract_amount is None else f"{order.contract_amount:.2f}",
                "items": [
                    {"room": i.room, "series": i.series, "model": i.model, "quantity": i.quantity} for i in items
                ],
                "service_tickets": [
                    {
                        "number": t.number,
                        "kind": t.kind.label,
                        "state": t.state.label,
                        "description": t.description,
                        "resolution": t.resolution,
                        "confirm_comment": t.confirm_comment,
                        "created_at": _when(t.created_at),
                    }
                    for t in tickets
                ],
                "payments": [
                    {
                        "amount": f"{p.amount:.2f}",
                        "kind": p.kind.label,
                        "method": p.method.label,
                        "at": _when(p.created_at),
                    }
                    for p in payments
                ],
                "appointments": [
                    {
                        "kind": t.kind.label,
                        "date": t.scheduled_date.isoformat(),
                        "state": t.state.label,
                        "staff": t.assignee.name if t.assignee else "",
                    }
                    for t in tasks
                ],
                "visits": [
                    {
                        "reached": v.reached,
                        "notes": v.notes,
                        "scores": {
                            "sales": v.score_sales,
                            "measurer": v.score_measurer,
                            "installer": v.score_installer,
                        },
                        "comments": {
                            "sales": v.comment_sales,
                            "measurer": v.comment_measurer,
                            "installer": v.comment_installer,
                        },
                        "at": _when(v.created_at),
                    }
                    for v in visits
                ],
                "signature": None
                if signature is None
                else {
                    "signed_at": _when(signature.signed_at),
                    "ip": signature.ip,
                    "user_agent": signature.user_agent,
                    "image": f"signatures/{order.number}.png",
                },
                "photos_and_files": [
                    {
                        "category": f.category.label,
                        "filename": f.filename,
                        "content_type": f.content_type,
                        "size": f.size,
                        "at": _when(f.created_at),
                    }
                    for f in files
                ],
                "timeline": await timeline(order),
            }
        )
    return data


async def export_customer(*, actor: Staff, customer_id: int, ip: str = "") -> tuple[str, bytes]:
    """A zip for the customer: data.json (their data, the phone decrypted) and their signature images.
    Recorded in the audit log. The file's name and its bytes."""
    customer, orders = await _customer_for(actor, customer_id)
    data = await customer_data(customer, orders)
    signatures = []
    for order in orders:
        signature = await Signature.get_or_none(order_id=order.id).prefetch_related("attachment")
        if signature is not None:
            with contextlib.suppress(FileNotFoundError):
                signatures.append((order.number, await runtime().files.read(signature.attachment.sha256)))

    def build() -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
            for number, image in signatures:
                zf.writestr(f"signatures/{number}.png", image)
        return out.getvalue()

    content = await asyncio.to_thread(build)
    await audit.record(
        AuditAction.CUSTOMER_EXPORT, actor=actor, customer_id=customer.id, ip=ip, orders=len(orders), format="zip"
    )
    return f"customer-{customer.id}.zip", content


# What goes from the orders: what names, reaches or shows the customer. What stays: counts, amounts,
# dates, states and the staff's own records (who did what), which the managers' numbers are made of.
ERASED_FILES = (AttachmentCategory.SIGNATURE, AttachmentCategory.PAPER_ORDER)


async def erase_customer(*, actor: Staff, customer_id: int, ip: str = "") -> int:
    """Erase the customer's personal data: name and address read 已删除, the phone and its blind index
    go (a search by the old number or name finds nothing), signature and paper-order images and the
    signer's IP and browser are removed, free-text notes are emptied, handled chat messages that mention
    them lose their content. The orders stay, anonymised, in
    every count. Recorded in the audit log. The number of orders touched."""
    customer, orders = await _customer_for(actor, customer_id)
    if customer.erased_at is not None:
        raise Invalid("这位客户的个人信息已经删除")
    ids = [o.id for o in orders]
    files = await Attachment.filter(order_id__in=ids, category__in=list(ERASED_FILES))
    needles = [phone_of(customer), customer.name, *(o.address for o in orders), *(o.number for o in orders)]
    async with in_transaction():
        await Customer.filter(id=customer.id).update(
            name=ERASED, phone_encrypted="", phone_index="", erased_at=utcnow()
        )
        await Order.filter(id__in=ids).update(address=ERASED, note="")
        await Visit.filter(order_id__in=ids).update(
            notes="", comment_sales="", comment_measurer="", comment_installer=""
        )
        for event in await OrderEvent.filter(order_id__in=ids, kind=EventKind.VISITED):
            if event.payload.get("notes"):
                await OrderEvent.filter(id=event.id).update(payload={**event.payload, "notes": ""})
        # Service tickets: the customer's own words and what was written about them.
        await Ticket.filter(order_id__in=ids).update(description="", confirm_comment="", resolution="")
        for event in await OrderEvent.filter(order_id__in=ids, kind=EventKind.TICKET_OPENED):
            await OrderEvent.filter(id=event.id).update(payload={**event.payload, "description": "—"})
        await Signature.filter(order_id__in=ids).delete()
        await Attachment.filter(id__in=[f.id for f in files]).delete()
        # 客户联系 and SMS: the binding to their WeChat goes; queued or sent texts keep no phone.
        await ExternalContact.filter(customer_id=customer.id).delete()
        await SmsMessage.filter(order_id__in=ids).update(phone_encrypted="", params={})
    # The images themselves, once no row refers to them (the store keeps one copy per content).
    for f in files:
        if not await Attachment.filter(sha256=f.sha256).exists():
            await runtime().files.remove(f.sha256)
    messages = await forget_messages([n for n in needles if len(n) >= 2 and n != ERASED])
    await audit.record(
        AuditAction.CUSTOMER_ERASE, actor=actor, customer_id=customer.id, ip=ip, orders=len(orders), messages=messages
    )
    return len(orders)


async def forget_messages(needles: list[str]) -> int:
    """Handled chat messages and sent cards that mention the customer (their phone in 查找 138…, their name
    or address on a card, their order's number) keep who, when and what kind now, as after the retention
    (workflow/retention.py), instead of waiting for it. Read in batches, outside any transaction."""
    if not needles:
        return 0
    now, forgotten = utcnow(), 0
    for model, kept in ((InboxMessage, INBOX_KEPT), (OutboxMessage, OUTBOX_KEPT)):
        last = 0
        while (
            rows := await model.filter(state__in=FINISHED, purged_at__isnull=True, id__gt=last)
            .order_by("id")
            .limit(BATCH)
            .values_list("id", "payload")
        ):
            last = rows[-1][0]
            for row_id, content in rows:
                text = json.dumps(content, ensure_ascii=False)
                if any(needle in text for needle in needles):
                    what_kind = {k: content[k] for k in kept if k in content}
                    await model.filter(id=row_id).update(payload=what_kind, purged_at=now)
                    forgotten += 1
    return forgotten
