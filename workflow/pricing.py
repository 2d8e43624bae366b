"""Prices: which price an order's product takes, and what an order's priced lines add up to.

The price of a product for an order comes from the price list that covers the order's store on the
order's date: the most specific unit wins (the store's list over its region's over the company's),
then the latest `valid_from`. A product no covering list prices takes its catalogue list price; with
neither, the line is unpriced (未定价) and the order keeps the contract amount typed at confirmation.
The order form, the measurer's page, stats and the dealer channel all ask `prices_for`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from tortoise.expressions import Q

from infra.timeutil import local
from models import Order, OrderItem, OrgUnit, PriceList, PriceListEntry, Product
from workflow.errors import Invalid

CENT = Decimal("0.01")
MAX_PRICE = Decimal("99999999.99")
HUNDRED = Decimal(100)
CATALOGUE = "目录价"
UNPRICED = "未定价"


@dataclass(frozen=True)
class Price:
    """A product's price for an order, and where it came from (a price list's name, or 目录价)."""

    product_id: int
    price: Decimal | None
    source: str = ""


def money(text: str, field: str, *, label: str = "金额") -> Decimal | None:
    """A typed amount of yuan, or None when blank. Refused: not a number, negative, more than two
    decimals (分 is the smallest unit: 12.345 is a typo, not a price to round)."""
    text = (text or "").strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise Invalid(f"{label}应为数字，如 1280 或 1280.50", field) from exc
    if not value.is_finite():
        raise Invalid(f"{label}应为数字，如 1280 或 1280.50", field)
    if value < 0:
        raise Invalid(f"{label}不能为负数", field)
    if value != value.quantize(CENT):
        raise Invalid(f"{label}最多两位小数（精确到分）", field)
    if value > MAX_PRICE:
        raise Invalid(f"{label}太大", field)
    return value.quantize(CENT)


def percent(text: str, field: str) -> Decimal | None:
    """A discount in percent (10 = 10 % off), or None when blank; 0 to 100, at most two decimals."""
    text = (text or "").strip().rstrip("%").rstrip("％").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise Invalid("折扣应为 0 到 100 之间的数字（百分比）", field) from exc
    if not value.is_finite() or value < 0 or value > HUNDRED:
        raise Invalid("折扣应在 0% 到 100% 之间", field)
    if value != value.quantize(CENT):
        raise Invalid("折扣最多两位小数", field)
    return value


def discounted(list_price: Decimal, pct: Decimal) -> Decimal:
    return (list_price * (HUNDRED - pct) / HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)


def order_date(order: Order) -> date:
    """The day whose prices an order takes: the day it was sold (local time)."""
    return local(order.created_at).date()


def _ancestors(unit: OrgUnit) -> list[int]:
    """The unit's ids from the top down: '/1/4/9/' -> [1, 4, 9]."""
    return [int(part) for part in unit.path.strip("/").split("/") if part] or [unit.id]


async def prices_for(*, unit: OrgUnit, on: date, product_ids: Iterable[int]) -> dict[int, Price]:
    """Each product's price for an order of `unit` on `on` (see the module's docstring)."""
    wanted = set(product_ids)
    if not wanted:
        return {}
    chain = _ancestors(unit)
    depth = {uid: i for i, uid in enumerate(chain)}  # deeper is more specific; company-wide (null) is -1
    lists = await PriceList.filter(
        Q(org_unit_id__in=chain) | Q(org_unit_id__isnull=True),
        Q(valid_to__isnull=True) | Q(valid_to__gte=on),
        valid_from__lte=on,
    )
    rank = {
        pl.id: (depth.get(pl.org_unit_id, -1) if pl.org_unit_id is not None else -1, pl.valid_from, pl.id)
        for pl in lists
    }
    names = {pl.id: pl.name for pl in lists}
    best: dict[int, tuple[tuple[int, date, int], Decimal, str]] = {}
    if rank:
        entries = await PriceListEntry.filter(price_list_id__in=list(rank), product_id__in=list(wanted))
        for entry in entries:
            key = rank[entry.price_list_id]
            if entry.product_id not in best or key > best[entry.product_id][0]:
                best[entry.product_id] = (key, entry.price, names[entry.price_list_id])
    catalogue = dict(await Product.filter(id__in=list(wanted)).values_list("id", "list_price"))
    result = {}
    for pid in wanted:
        if pid in best:
            result[pid] = Price(pid, best[pid][1], best[pid][2])
        elif catalogue.get(pid) is not None:
            result[pid] = Price(pid, Decimal(str(catalogue[pid])).quantize(CENT), CATALOGUE)
        else:
            result[pid] = Price(pid, None, UNPRICED)
    return result


async def prices_for_order(order: Order, product_ids: Iterable[int]) -> dict[int, Price]:
    return await prices_for(unit=await OrgUnit.get(id=order.org_unit_id), on=order_date(order), product_ids=product_ids)


@dataclass(frozen=True)
class LinePrice:
    """What sales typed for one line: a unit price, or a discount off its list price (the discount
    wins when both are given: the form fills the price from it). Neither: the list price."""

    unit_price: Decimal | None = None
    discount_pct: Decimal | None = None


def _checked(value: Decimal | None, field: str, label: str) -> Decimal | None:
    """The same refusals as `money` for an amount given as a Decimal (the workflow is the authority)."""
    return None if value is None else money(str(value), field, label=label)


def line_unit_price(list_price: Decimal | None, typed: LinePrice, field: str = "items") -> Decimal | None:
    """The agreed unit price of a line. A price above the list price is allowed (a special size)."""
    typed = LinePrice(
        unit_price=_checked(typed.unit_price, field, "单价"),
        discount_pct=None if typed.discount_pct is None else percent(str(typed.discount_pct), field),
    )
    if typed.discount_pct is not None and typed.discount_pct != 0:
        if list_price is None:
            raise Invalid("未定价的产品不能按折扣计价，请直接填写单价", field)
        return discounted(list_price, typed.discount_pct)
    if typed.unit_price is not None:
        return typed.unit_price
    return list_price


@dataclass(frozen=True)
class Totals:
    """An order's money from its lines: None throughout while any line is unpriced."""

    list_amount: Decimal | None
    lines_amount: Decimal | None
    discount_amount: Decimal
    contract_amount: Decimal | None

    @property
    def priced(self) -> bool:
        return self.contract_amount is not None


def totals(lines: Iterable[OrderItem], order_discount: Decimal | None) -> Totals:
    """Sum the lines; refuse an order discount on an unpriced order or larger than the lines."""
    rows = list(lines)
    discount = _checked(order_discount, "order_discount", "整单优惠") or Decimal("0.00")
    if not rows or any(r.unit_price is None for r in rows):
        if discount:
            raise Invalid("订单中有未定价的产品，不能整单优惠", "order_discount")
        return Totals(None, None, Decimal("0.00"), None)
    lines_amount = sum((Decimal(r.amount or 0) for r in rows), Decimal("0.00"))
    list_amount = sum(
        (r.quantity * Decimal(r.list_price if r.list_price is not None else r.unit_price or 0) for r in rows),
        Decimal("0.00"),
    )
    if discount > lines_amount:
        raise Invalid(f"整单优惠 {discount} 元超过产品合计 {lines_amount} 元", "order_discount")
    return Totals(list_amount.quantize(CENT), lines_amount.quantize(CENT), discount, lines_amount - discount)


def amount_of(quantity: int, unit_price: Decimal | None) -> Decimal | None:
    return None if unit_price is None else (unit_price * quantity).quantize(CENT)


async def store_totals(order: Order, lines: Iterable[OrderItem], order_discount: Decimal | None) -> Totals:
    """Put the lines' totals on the order (inside the caller's transaction). An unpriced order has
    no contract amount until it is typed at confirmation, and keeps that one after."""
    sums = totals(lines, order_discount)
    values: dict[str, object] = {"list_amount": sums.list_amount, "discount_amount": sums.discount_amount}
    if sums.priced or order.confirmed_at is None:
        values["contract_amount"] = sums.contract_amount
    await Order.filter(id=order.id).update(**values)
    await order.refresh_from_db()
    return sums


def fmt_money(value: Decimal | None) -> str:
    return UNPRICED if value is None else f"¥{value:,.2f}"
