"""未收清: orders with money still owed (the contract less the standing payments), oldest first, for
finance and managers within their part of the company. The dashboard shows the same list.

Age is counted from installation when the order is installed, else from the customer's confirmation:
a balance is normally due once the work is done (seed 003: what is still owed after a partial payment).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from tortoise.expressions import Q
from tortoise.functions import Sum

from infra.timeutil import local, local_moment, local_today
from models import Order, OrgUnit, Payment, Role, Staff
from workflow.errors import Invalid, NotAllowed
from workflow.order_lifecycle import PAID_STATES
from workflow.owed import owing
from workflow.scope import require_role

ROLES = (Role.FINANCE, Role.MANAGER)
LIMIT = 500


@dataclass(frozen=True)
class Receivable:
    order_id: int
    number: str
    store: str
    sales: str
    contract: Decimal
    paid: Decimal  # standing payments, confirmed or not
    confirmed: Decimal  # of which finance confirmed
    outstanding: Decimal
    since: datetime  # installed, else confirmed
    since_label: str  # 安装 / 确认
    days: int


@dataclass(frozen=True)
class ReceivableFilter:
    unit_id: int | None = None  # a store (or region) within the member's part
    min_days: int = 0  # at least this many days since install (or confirmation)


def parse_filter(store: str, days: str) -> ReceivableFilter:
    unit_id = None
    if store.strip():
        if not store.strip().isdigit():
            raise Invalid("门店不存在", "store")
        unit_id = int(store)
    min_days = 0
    if days.strip():
        if not days.strip().isdigit() or int(days) > 3650:
            raise Invalid("天数应为 0 到 3650 之间的整数", "days")
        min_days = int(days)
    return ReceivableFilter(unit_id, min_days)


async def stores_of(staff: Staff) -> list[OrgUnit]:
    """The units a member may filter by: theirs and those below it."""
    unit = await OrgUnit.get(id=staff.org_unit_id)
    return await OrgUnit.filter(path__startswith=unit.path).order_by("path")


async def receivables(staff: Staff, f: ReceivableFilter | None = None, *, limit: int = LIMIT) -> list[Receivable]:
    """The orders in the member's part of the company with money outstanding, oldest first."""
    require_role(staff, *ROLES)
    f = f or ReceivableFilter()
    mine = await OrgUnit.get(id=staff.org_unit_id)
    path = mine.path
    if f.unit_id is not None:
        chosen = await OrgUnit.get_or_none(id=f.unit_id)
        if chosen is None or not chosen.path.startswith(mine.path):
            raise NotAllowed("这个门店不在你负责的范围内")
        path = chosen.path
    today = local_today()
    units = await OrgUnit.filter(path__startswith=path).values_list("id", flat=True)
    # The orders still owing (their stored paid total, workflow.owed; the partial index idx_order_owing
    # holds just those), at least min_days since install (or confirmation), oldest first: only the page.
    query = owing(Order.filter(org_unit_id__in=units, state__in=list(PAID_STATES), contract_amount__isnull=False))
    if f.min_days:
        before = local_moment(today - timedelta(days=f.min_days - 1), time(0))
        query = query.filter(
            Q(installed_at__lt=before)
            | Q(installed_at__isnull=True, confirmed_at__lt=before)
            | Q(installed_at__isnull=True, confirmed_at__isnull=True, created_at__lt=before)
        )
    orders = await query.order_by("confirmed_at", "id").limit(limit).prefetch_related("org_unit", "sales")
    confirmed = dict(
        await Payment.filter(order_id__in=[o.id for o in orders], voided_at__isnull=True, confirmed_at__isnull=False)
        .annotate(total=Sum("amount"))
        .group_by("order_id")
        .values_list("order_id", "total")
    )
    rows: list[Receivable] = []
    for o in orders:
        contract = Decimal(o.contract_amount or 0)
        got = Decimal(o.paid_amount).quantize(Decimal("0.01"))
        since, label = (o.installed_at, "安装") if o.installed_at else (o.confirmed_at or o.created_at, "确认")
        days = (today - local(since).date()).days
        rows.append(
            Receivable(
                order_id=o.id,
                number=o.number,
                store=o.org_unit.name,
                sales=o.sales.name,
                contract=contract,
                paid=got,
                confirmed=Decimal(confirmed.get(o.id) or 0).quantize(Decimal("0.01")),
                outstanding=contract - got,
                since=since,
                since_label=label,
                days=days,
            )
        )
    return rows


def total_outstanding(rows: list[Receivable]) -> Decimal:
    return sum((r.outstanding for r in rows), Decimal("0"))


CSV_HEADER = ["订单号", "门店", "销售", "合同金额", "已收", "已确认", "未收", "起算", "起算日期", "天数"]


def receivables_csv(rows: list[Receivable]) -> bytes:
    """Amounts as plain numbers (a spreadsheet sums them); UTF-8 with a BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow(
            [
                r.number,
                r.store,
                r.sales,
                f"{r.contract:.2f}",
                f"{r.paid:.2f}",
                f"{r.confirmed:.2f}",
                f"{r.outstanding:.2f}",
                r.since_label,
                local(r.since).date().isoformat(),
                r.days,
            ]
        )
    return ("\ufeff" + out.getvalue()).encode()
