"""Finding orders (002: search and export): by number, phone, customer name, with filters, in scope."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from infra.runtime import runtime
from infra.security import is_mobile, normalize_phone
from infra.timeutil import local, local_moment
from models import Order, OrderItem, OrderState, OrgUnit, Staff, Task
from workflow.errors import Invalid


@dataclass(frozen=True)
class OrderFilter:
    q: str = ""
    state: str = ""
    date_from: date | None = None
    date_to: date | None = None
    staff_id: int | None = None  # the salesperson or anyone with a task on it
    unit_id: int | None = None


async def scoped_orders(viewer: Staff) -> QuerySet[Order]:
    """Orders in the viewer's part of the org tree, plus those they sold or have a task on."""
    unit = await OrgUnit.get(id=viewer.org_unit_id)
    task_orders = Subquery(Task.filter(assignee_id=viewer.id).values("order_id"))
    return Order.filter(Q(org_unit__path__startswith=unit.path) | Q(sales_id=viewer.id) | Q(id__in=task_orders))


async def search_orders(viewer: Staff, f: OrderFilter, *, limit: int | None = 200) -> list[Order]:
    query = await scoped_orders(viewer)
    text = f.q.strip()
    if text:
        conditions = Q(number__icontains=text) | Q(customer__name__icontains=text)
        phone = normalize_phone(text)
        if is_mobile(phone):
            conditions |= Q(customer__phone_index=runtime().vault.blind_index(phone))
        query = query.filter(conditions)
    if f.state:
        if f.state not in OrderState._value2member_map_:
            raise Invalid("未知的订单状态", "state")
        query = query.filter(state=f.state)
    if f.date_from:
        query = query.filter(created_at__gte=local_moment(f.date_from))
    if f.date_to:
        query = query.filter(created_at__lt=local_moment(f.date_to + timedelta(days=1)))
    if f.staff_id:
        with_task = Subquery(Task.filter(assignee_id=f.staff_id).values("order_id"))
        query = query.filter(Q(sales_id=f.staff_id) | Q(id__in=with_task))
    if f.unit_id:
        unit = await OrgUnit.get_or_none(id=f.unit_id)
        if unit is None:
            raise Invalid("未知的组织", "unit")
        query = query.filter(org_unit__path__startswith=unit.path)
    query = query.order_by("-created_at", "-id").prefetch_related("customer", "sales", "org_unit")
    if limit is not None:
        query = query.limit(limit)
    return await query


CSV_HEADER = ["订单号", "状态", "客户", "地址", "销售", "组织", "产品", "合同金额", "创建时间"]


async def export_csv(orders: list[Order]) -> str:
    """UTF-8 with a BOM, so Excel opens the Chinese correctly."""
    items: dict[int, list[str]] = {}
    for order_id, series, model, room in await OrderItem.filter(order_id__in=[o.id for o in orders]).values_list(
        "order_id", "series", "model", "room"
    ):
        items.setdefault(int(order_id), []).append(f"{room} {series} {model}".strip())
    # Tens of thousands of rows: written in a thread, so the event loop keeps answering meanwhile.
    return await asyncio.to_thread(_write_csv, orders, items)


def _write_csv(orders: list[Order], items: dict[int, list[str]]) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for o in orders:
        writer.writerow(
            [
                o.number,
                o.state.label,
                _safe(o.customer.name),
                _safe(o.address),
                _safe(o.sales.name),
                _safe(o.org_unit.name),
                _safe("；".join(items.get(o.id, []))),  # rooms are typed by staff: "=..." is text, not a formula
                "" if o.contract_amount is None else f"{o.contract_amount:.2f}",
                local(o.created_at).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return out.getvalue()


def _safe(text: str) -> str:
    # A cell starting with = + - @ is a formula to Excel: a customer's name must never run as one.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
