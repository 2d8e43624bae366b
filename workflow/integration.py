"""What the integration API reads, and the personal-data rules for machine callers (PIPL).

A service token reads as the member it acts as (models/tokens.py `staff`): the orders, customers and
payments in that member's part of the company, no more. A customer's phone and address are masked
unless the token holds `customers:pii`; each customer shown in full is one audit-log row (as a member's
phone reveal is, workflow/privacy.py), naming the token. Nothing here writes but the audit rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Subquery
from tortoise.queryset import QuerySet

from infra.security import mask_phone
from models import AuditAction, Customer, Order, OrderItem, Payment, ServiceToken, Staff
from workflow import audit
from workflow.errors import NotAllowed
from workflow.privacy import ERASED, phone_of, sees_money
from workflow.search import scoped_orders

PII_SCOPE = "customers:pii"


def acting_member(token: ServiceToken, staff: Staff | None) -> Staff:
    """The member the token acts as, refused (403) when it has none or they have left."""
    if staff is None or not staff.active:
        raise NotAllowed("这个访问令牌没有代表的员工账号（或该员工已停用），请管理员在访问令牌页为它指定员工")
    return staff


def mask_address(address: str) -> str:
    """The district at most: enough to route a delivery, not to find the door."""
    if not address or address == ERASED:
        return address
    return address[: min(6, max(len(address) // 3, 1))] + "****"


def reveals(token: ServiceToken | None) -> bool:
    return token is not None and PII_SCOPE in token.scope_list


async def orders_for(member: Staff) -> QuerySet[Order]:
    return await scoped_orders(member)


async def customers_for(member: Staff) -> QuerySet[Customer]:
    """Customers with at least one order the member may see."""
    orders = await scoped_orders(member)
    return Customer.filter(id__in=Subquery(orders.values("customer_id")))


async def payments_for(member: Staff) -> QuerySet[Payment]:
    if not sees_money(member):
        raise NotAllowed("价格与金额只对销售、管理层、财务和管理员显示")
    orders = await scoped_orders(member)
    return Payment.filter(order_id__in=Subquery(orders.values("id")))


@dataclass(frozen=True)
class CustomerRecord:
    id: int
    name: str
    phone: str
    orders: list[dict[str, str]]  # number, address
    full: bool  # phone and addresses unmasked (and recorded)


async def customer_records(
    customers: list[Customer], *, member: Staff, token: ServiceToken, ip: str = ""
) -> list[CustomerRecord]:
    """The customers as this token may see them; a full record is recorded in the audit log."""
    full = reveals(token)
    visible = await orders_for(member)
    ids = [c.id for c in customers]
    orders: dict[int, list[dict[str, str]]] = {i: [] for i in ids}
    for number, address, customer_id in (
        await visible.filter(customer_id__in=ids).order_by("id").values_list("number", "address", "customer_id")
    ):
        orders[customer_id].append({"number": number, "address": address if full else mask_address(address)})
    records = []
    for customer in customers:
        phone = phone_of(customer)
        if full and customer.erased_at is None:
            await audit.record(
                AuditAction.PHONE_REVEAL,
                actor=member,
                customer_id=customer.id,
                ip=ip,
                via="API",
                token=token.name,
                fields="phone,address",
            )
        records.append(
            CustomerRecord(
                id=customer.id,
                name=customer.name,
                phone=phone if full or phone == ERASED else mask_phone(phone),
                orders=orders[customer.id],
                full=full,
            )
        )
    return records


async def order_items(order: Order, *, with_money: bool) -> list[dict[str, Any]]:
    items = await OrderItem.filter(order_id=order.id).order_by("id")
    return [
        {
            "id": i.id,
            "product_id": i.product_id,
            "series": i.series,
            "model": i.model,
            "room": i.room,
            "quantity": i.quantity,
            **(
                {
                    "unit_price": str(i.unit_price) if i.unit_price is not None else None,
                    "amount": str(i.amount) if i.amount is not None else None,
                }
                if with_money
                else {}
            ),
        }
        for i in items
    ]
