"""Dealers (经销商, seed 003): a dealer unit's staff order from the catalogue at the dealer's price list and
follow each order and piece; the company's dealer managers accept or return their orders.

A dealer is an org unit marked `kind = dealer` whose staff hold the `dealer` role: the unit's place in the
tree is what every check already reads (scope, the price list that covers it, the dashboard's units), and
its staff are members of the company's own WeCom, reached by the same app. Every move is a row of
workflow/dealer_lifecycle.py; this module adds what the rows need (lines, prices, pieces, the timeline, the
cards) and the lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from infra.timeutil import fmt_full_time, local_moment, local_today, utcnow
from models import (
    DealerEventKind,
    DealerOrder,
    DealerOrderEvent,
    DealerOrderKind,
    DealerOrderLine,
    DealerOrderState,
    DealerPiece,
    OrgUnit,
    Product,
    Role,
    Staff,
    StockKind,
    UnitKind,
    Warehouse,
)
from workflow import notify, stock
from workflow.dealer_lifecycle import DEALER_ORDER, DEALER_PIECE, dealer_scope_holds
from workflow.errors import Conflict, Invalid, NotAllowed, NotFound
from workflow.machine import Step
from workflow.pricing import CENT, UNPRICED, Price, prices_for

D = DealerOrderState
MAX_QUANTITY = 9999
MAX_REASON = 200
DEFAULT_DAYS = 15


# Who is a dealer, and what they may see


async def dealer_unit(staff: Staff) -> OrgUnit:
    """The member's own dealer unit: only a dealer's staff order from the catalogue."""
    unit = await OrgUnit.get(id=staff.org_unit_id)
    if not staff.has_role(Role.DEALER) or unit.kind != UnitKind.DEALER:
        raise NotAllowed("只有经销商可以订货")
    return unit


async def sees_order(staff: Staff, order: DealerOrder) -> bool:
    """Whether any row of the table holds for the member on this order (its role within its scope). A draft is
    the dealer's own cart: the company sees an order once it is submitted."""
    for rule in dict.fromkeys(r for t in DEALER_ORDER for r in t.who):
        if rule.role is None or not staff.has_role(rule.role):
            continue
        if rule.role != Role.DEALER and order.state == D.DRAFT:
            continue
        if await dealer_scope_holds(rule, staff, order.dealer_id):
            return True
    return False


async def order_for(staff: Staff, number: str) -> DealerOrder:
    """The dealer order with this number, if the member may see it (another dealer's is reported as unknown)."""
    number = number.strip().upper()[:32]
    order = await DealerOrder.get_or_none(number=number) if number else None
    if order is None or not await sees_order(staff, order):
        raise NotFound(f"没有找到订货单 {number}")
    return order


async def dealer_units_for(staff: Staff) -> list[OrgUnit]:
    """The dealer units whose orders the member's lists show: a dealer's own (and its sub-dealers'), a dealer
    manager's every dealer in their part of the company."""
    mine = await OrgUnit.get(id=staff.org_unit_id)
    if staff.has_role(Role.DEALER_MANAGER) or (staff.has_role(Role.DEALER) and mine.kind == UnitKind.DEALER):
        return await OrgUnit.filter(kind=UnitKind.DEALER, path__startswith=mine.path).order_by("name")
    return []


# The catalogue


@dataclass(frozen=True)
class CatalogueItem:
    product: Product
    price: Price
    stock: int | None  # available in the warehouse orders reserve from; None: made to measure

    @property
    def orderable(self) -> bool:
        return self.price.price is not None


MADE = "made"  # the catalogue's category of products made to measure (no stock kind)


async def catalogue(staff: Staff, *, q: str = "", series: str = "", kind: str = "") -> list[CatalogueItem]:
    """The active catalogue at the dealer's prices (today's list covering the dealer unit) with what is in
    stock, by series and by how it is kept (made to measure, standard, accessory, marketing material)."""
    unit = await dealer_unit(staff)
    query = Product.filter(active=True)
    q = q.strip()[:40]
    if q:
        query = query.filter(Q(series__icontains=q) | Q(model__icontains=q) | Q(name__icontains=q))
    if series:
        query = query.filter(series=series)
    if kind == MADE:
        query = query.filter(stock_kind__isnull=True)
    elif kind in StockKind._value2member_map_:
        query = query.filter(stock_kind=kind)
    products = await query.order_by("series", "model")
    prices = await prices_for(unit=unit, on=local_today(), product_ids=[p.id for p in products])
    stocked = [p.id for p in products if not made_to_measure(p)]
    warehouse = await Warehouse.filter(active=True).order_by("id").first()
    levels = await stock.available(stocked, warehouse.id) if stocked and warehouse else {}
    return [CatalogueItem(p, prices[p.id], None if made_to_measure(p) else levels.get(p.id, 0)) for p in products]


async def all_series() -> list[str]:
    series = await Product.filter(active=True).distinct().order_by("series").values_list("series", flat=True)
    return [str(s) for s in series]


# The cart (a draft) and its lines


def quantity_of(raw: object) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise Invalid(f"数量应为 1 到 {MAX_QUANTITY} 的整数", "quantity") from None
    if not 1 <= value <= MAX_QUANTITY:
        raise Invalid(f"数量应为 1 到 {MAX_QUANTITY} 的整数", "quantity")
    return value


def kind_of(raw: str) -> DealerOrderKind:
    try:
        return DealerOrderKind(raw or DealerOrderKind.NEW.value)
    except ValueError:
        raise Invalid("请选择订单类型：新订单、补换货或物料", "kind") from None


async def _numbered(now: datetime, **values: Any) -> DealerOrder:
    """D2612-0001: D, the year and month, the month's sequence. Two made at once: the second takes the next."""
    prefix = f"D{now:%y%m}-"
    for _ in range(20):
        last = await DealerOrder.filter(number__startswith=prefix).order_by("-number").first()
        seq = int(last.number.rsplit("-", 1)[1]) + 1 if last else 1
        try:
            async with in_transaction():  # a savepoint: a clash rolls back this insert alone
                return await DealerOrder.create(number=f"{prefix}{seq:04d}", state_since=now, **values)
        except IntegrityError:
            continue
    raise Conflict("订货单编号生成失败，请重试")


async def record(order: DealerOrder, actor: Staff | None, kind: DealerEventKind, **payload: Any) -> None:
    await DealerOrderEvent.create(order=order, actor=actor, kind=kind, payload=payload)


async def _new_draft(
    actor: Staff, unit: OrgUnit, *, kind: DealerOrderKind, copied_from: int | None = None
) -> DealerOrder:
    DEALER_ORDER.check_role(DEALER_ORDER["create"], actor)
    order = await _numbered(utcnow(), dealer=unit, created_by=actor, kind=kind, copied_from_id=copied_from)
    await record(order, actor, DealerEventKind.CREATED)
    return order


async def _product(product_id: int) -> Product:
    product = await Product.get_or_none(id=product_id, active=True)
    if product is None:
        raise NotFound("没有这个产品，或已停售")
    return product


async def add_to_cart(*, actor: Staff, product_id: int, quantity: int, order: DealerOrder | None = None) -> DealerOrder:
    """Put a product in the member's draft (the one named, else their latest, else a new one): its quantity
    adds to a line of the same product."""
    unit = await dealer_unit(actor)
    quantity = quantity_of(quantity)
    product = await _product(product_id)
    price = (await prices_for(unit=unit, on=local_today(), product_ids=[product.id]))[product.id]
    if price.price is None:
        raise Conflict(f"{product.label} 暂无经销价，不能订货，请联系经销商管理", UNPRICED)
    async with in_transaction():
        if order is None:
            order = await DealerOrder.filter(created_by_id=actor.id, state=D.DRAFT).order_by("-id").first()
        if order is None:
            order = await _new_draft(actor, unit, kind=DealerOrderKind.NEW)
        await _locked(order)
        await DEALER_ORDER.check(DEALER_ORDER["save"], actor, order)
        line = await DealerOrderLine.get_or_none(order_id=order.id, product_id=product.id)
        if line is None:
            await DealerOrderLine.create(order=order, product=product, quantity=quantity)
        else:
            quantity_of(line.quantity + quantity)
            await DealerOrderLine.filter(id=line.id).update(quantity=line.quantity + quantity)
    return order


@dataclass(frozen=True)
class DraftInput:
    """What the draft's page sends: each line's quantity (by line id), the lines to drop, the type, a remark."""

    quantities: dict[int, int]
    removed: frozenset[int] = frozenset()
    kind: DealerOrderKind = DealerOrderKind.NEW
    note: str = ""


async def save_draft(*, actor: Staff, order: DealerOrder, form: DraftInput) -> None:
    """Change the draft's lines, type and remark (the table's row `save`)."""
    await DEALER_ORDER.check(DEALER_ORDER["save"], actor, order)
    note = form.note.strip()
    if len(note) > 500:
        raise Invalid("备注最多 500 字", "note")
    lines = {line.id: line for line in await DealerOrderLine.filter(order_id=order.id)}
    unknown = (set(form.quantities) | set(form.removed)) - set(lines)
    if unknown:
        raise NotFound("订货单里没有这一行，请刷新页面")
    for qty in form.quantities.values():
        quantity_of(qty)
    async with in_transaction():
        await _take(DEALER_ORDER["save"], actor, order, kind=form.kind, note=note)
        for line_id in form.removed:
            await DealerOrderLine.filter(id=line_id).delete()
        for line_id, qty in form.quantities.items():
            if line_id not in form.removed and lines[line_id].quantity != qty:
                await DealerOrderLine.filter(id=line_id).update(quantity=qty)


# The moves


async def _take(
    step: Step, actor: Staff, order: DealerOrder, event: dict[str, Any] | None = None, **values: Any
) -> None:
    """Move the order by its row inside the caller's transaction and write its timeline."""
    await DEALER_ORDER.move(step, order, **values)
    if step.event is not None:
        await record(order, actor, DealerEventKind(step.event), **(event or {}))


async def _priced_lines(order: DealerOrder, unit: OrgUnit) -> list[tuple[DealerOrderLine, Price]]:
    """Each line at today's price of the dealer's list; refused while a product is unpriced or retired."""
    lines = await DealerOrderLine.filter(order_id=order.id).order_by("id").prefetch_related("product")
    if not lines:
        raise Invalid("订货单是空的，请先从目录添加产品", "lines")
    retired = [line.product.label for line in lines if not line.product.active]
    if retired:
        raise Conflict(f"{'、'.join(retired)} 已停售，请删除后再提交", "已停售")
    prices = await prices_for(unit=unit, on=local_today(), product_ids=[line.product_id for line in lines])
    unpriced = [line.product.label for line in lines if prices[line.product_id].price is None]
    if unpriced:
        raise Conflict(f"{'、'.join(unpriced)} 暂无经销价，不能提交，请联系经销商管理", UNPRICED)
    return [(line, prices[line.product_id]) for line in lines]


async def _locked(order: DealerOrder) -> None:
    """The draft's row held until the caller's transaction ends, and read again: a line added and the
    draft sent at once come one after the other, so no line lands in a sent order unpriced and unheld.
    (PostgreSQL's row lock; SQLite's writers are one at a time already.)"""
    await DealerOrder.filter(id=order.id).select_for_update().values_list("id", flat=True)
    await order.refresh_from_db()


async def submit(*, actor: Staff, order: DealerOrder, form: DraftInput | None = None) -> None:
    """The dealer sends the draft (with the page's last changes, if given: both or neither) to the factory at
    today's prices of its list; the dealer managers hear of it."""
    step = DEALER_ORDER["submit"]
    await DEALER_ORDER.check(step, actor, order)
    unit = await OrgUnit.get(id=order.dealer_id)
    async with in_transaction():
        await _locked(order)
        await DEALER_ORDER.check(step, actor, order)  # judged again on the row as now locked
        if form is not None:
            await save_draft(actor=actor, order=order, form=form)
        total = Decimal("0.00")
        priced = await _priced_lines(order, unit)
        for line, price in priced:
            assert price.price is not None
            amount = (price.price * line.quantity).quantize(CENT)
            total += amount
            await DealerOrderLine.filter(id=line.id).update(
                unit_price=price.price, amount=amount, price_source=price.source[:64]
            )
        # The stocked lines are held for the order, all or none: a short product refuses the whole submission.
        held = await _stock_lines(order)
        warehouse = await stock.default_warehouse() if held else None
        if warehouse is not None:
            await stock.reserve(
                warehouse_id=warehouse.id, lines=held, ref=order.number, actor=actor, reason="经销商订货"
            )
        values = {"warehouse_id": warehouse.id} if warehouse is not None else {}
        await _take(step, actor, order, {"amount": f"{total:.2f}"}, amount=total, submitted_at=utcnow(), **values)
        await notify.dealer_order_submitted(order, await dealer_managers(unit), dealer=unit.name, by=actor)


async def revise(*, actor: Staff, order: DealerOrder) -> None:
    """Back to a draft to change it (before the factory accepts): the managers' card says it was taken back."""
    step = DEALER_ORDER["revise"]
    await DEALER_ORDER.check(step, actor, order)
    async with in_transaction():
        await _take(step, actor, order)
        await _release(order, actor, "经销商撤回修改")
        await notify.dealer_order_closed(order, f"经销商已撤回修改（{actor.name}）")


async def cancel(*, actor: Staff, order: DealerOrder) -> None:
    step = DEALER_ORDER["cancel"]
    await DEALER_ORDER.check(step, actor, order)
    async with in_transaction():
        await _take(step, actor, order)
        await _release(order, actor, "经销商取消订货单")
        await notify.dealer_order_closed(order, f"经销商已取消（{actor.name}）")


async def accept(*, actor: Staff, order: DealerOrder, tapped: bool = False) -> list[DealerPiece]:
    """The factory takes the order: it gets the factory's number, each made-to-measure unit a piece with its
    own production number and expected date; the dealer's staff and the factory hear of it."""
    step = DEALER_ORDER["accept"]
    await DEALER_ORDER.check(step, actor, order)
    now = utcnow()
    number = f"D{now:%y%m}-{order.id:06d}"
    async with in_transaction():
        await _take(
            step,
            actor,
            order,
            {"factory_number": number},
            accepted_at=now,
            accepted_by_id=actor.id,
            factory_number=number,
        )
        # The stocked lines leave the warehouse with the acceptance: issuing them checks again that what was
        # reserved is still there (a stock-take may have found less), and refuses the acceptance if not.
        issued = await _stock_lines(order)
        if issued and order.warehouse_id is not None:
            reason = f"经销商订货单接单 {number}"
            await stock.issue(
                warehouse_id=order.warehouse_id, lines=issued, ref=order.number, actor=actor, reason=reason
            )
        pieces = await _make_pieces(order, number, now)
        await notify.dealer_order_closed(order, f"已接单（{actor.name}）", skip=actor.userid if tapped else "")
        await notify.dealer_order_decided(
            order, await dealer_staff(order), title="工厂已接单", text=f"工厂订单号 {number}，共 {len(pieces)} 件生产"
        )
        if pieces:
            await notify.dealer_order_released(order, await factory_staff(), pieces=len(pieces))
    return pieces


async def _make_pieces(order: DealerOrder, number: str, now: datetime) -> list[DealerPiece]:
    """One piece per unit of each made-to-measure line, numbered after the factory's order number."""
    lines = await DealerOrderLine.filter(order_id=order.id).order_by("id").prefetch_related("product")
    today, n, pieces = local_today(), 0, []
    for line in lines:
        if not made_to_measure(line.product):
            continue
        for seq in range(1, line.quantity + 1):
            n += 1
            pieces.append(
                DealerPiece(
                    order=order,
                    line=line,
                    seq=seq,
                    production_number=f"{number}-{n:02d}",
                    state_since=now,
                    expected_date=today + timedelta(days=line.product.production_days or DEFAULT_DAYS),
                )
            )
    if pieces:
        await DealerPiece.bulk_create(pieces)
    return await DealerPiece.filter(order_id=order.id).order_by("id")


def made_to_measure(product: Product) -> bool:
    """Made for the order by the factory (a piece per unit), as opposed to taken from stock."""
    return product.stock_kind is None


async def _stock_lines(order: DealerOrder) -> list[stock.Line]:
    """The order's stocked lines, as the stock workflow takes them (made-to-measure lines are not stocked)."""
    lines = await DealerOrderLine.filter(order_id=order.id).order_by("product_id").prefetch_related("product")
    return [stock.Line(line.product_id, line.quantity) for line in lines if not made_to_measure(line.product)]


async def _release(order: DealerOrder, actor: Staff, reason: str) -> None:
    """Give back what the order holds (taken back, cancelled, returned), once: the order lets go of its
    warehouse by a conditional update, so of a return and a revise at once only one releases."""
    await order.refresh_from_db()
    warehouse_id = order.warehouse_id
    if warehouse_id is None or not await DealerOrder.filter(id=order.id, warehouse_id=warehouse_id).update(
        warehouse_id=None
    ):
        return  # nothing held (a draft, a returned order taken back)
    order.warehouse_id = None
    lines = await _stock_lines(order)
    if lines:
        await stock.release(warehouse_id=warehouse_id, lines=lines, ref=order.number, actor=actor, reason=reason)


async def return_order(*, actor: Staff, order: DealerOrder, reason: str) -> None:
    """The company sends the order back with a reason; the dealer changes it and submits again, or cancels."""
    step = DEALER_ORDER["return"]
    reason = " ".join(reason.split())
    if not reason:
        raise Invalid("请填写退回原因", "reason")
    if len(reason) > MAX_REASON:
        raise Invalid(f"退回原因最多 {MAX_REASON} 字", "reason")
    await DEALER_ORDER.check(step, actor, order)
    async with in_transaction():
        await _take(step, actor, order, {"reason": reason}, return_reason=reason, returned_at=utcnow())
        await _release(order, actor, f"订货单退回：{reason}")
        await notify.dealer_order_closed(order, f"已退回（{actor.name}）")
        await notify.dealer_order_decided(order, await dealer_staff(order), title="订货单被退回", text=reason)


async def copy(*, actor: Staff, order: DealerOrder) -> DealerOrder:
    """A new draft with the same lines (retired products left out), priced at today's list when submitted."""
    await DEALER_ORDER.check(DEALER_ORDER["copy"], actor, order)
    unit = await dealer_unit(actor)
    lines = await DealerOrderLine.filter(order_id=order.id).order_by("id").prefetch_related("product")
    async with in_transaction():
        new = await _new_draft(actor, unit, kind=DealerOrderKind(order.kind), copied_from=order.id)
        await DealerOrderLine.bulk_create(
            [
                DealerOrderLine(order=new, product_id=line.product_id, quantity=line.quantity)
                for line in lines
                if line.product.active
            ]
        )
        await record(order, actor, DealerEventKind.COPIED, copy=new.number)
    return new


async def take(
    actor: Staff,
    order: DealerOrder,
    step: str,
    *,
    reason: str = "",
    tapped: bool = False,
    draft: DraftInput | None = None,
) -> DealerOrder | None:
    """A row named by a button (a card's tap, a page's form): the move it names. Copy returns the new draft.
    `tapped`: on the card itself, which the tap marks (the other copies are updated here)."""
    if step not in DEALER_ORDER or DEALER_ORDER[step].automatic:
        raise NotFound("没有这个操作")
    if step == "submit":
        await submit(actor=actor, order=order, form=draft)
    elif step == "revise":
        await revise(actor=actor, order=order)
    elif step == "cancel":
        await cancel(actor=actor, order=order)
    elif step == "accept":
        await accept(actor=actor, order=order, tapped=tapped)
    elif step == "return":
        await return_order(actor=actor, order=order, reason=reason)
    elif step == "copy":
        return await copy(actor=actor, order=order)
    else:
        raise NotFound("没有这个操作")
    return None


# Who hears of it


async def dealer_managers(unit: OrgUnit) -> list[Staff]:
    """Active dealer managers whose unit covers the dealer unit."""
    members = await Staff.filter(active=True).prefetch_related("org_unit")
    return [m for m in members if m.has_role(Role.DEALER_MANAGER) and unit.path.startswith(m.org_unit.path)]


async def dealer_staff(order: DealerOrder) -> list[Staff]:
    """The dealer unit's own active dealer staff (who placed it first)."""
    members = await Staff.filter(active=True, org_unit_id=order.dealer_id).order_by("id")
    members = [m for m in members if m.has_role(Role.DEALER)]
    return sorted(members, key=lambda m: m.id != order.created_by_id)


async def factory_staff() -> list[Staff]:
    return [m for m in await Staff.filter(active=True).order_by("id") if m.has_role(Role.FACTORY)]


# Reading an order


@dataclass(frozen=True)
class LineView:
    line: DealerOrderLine
    product: Product
    unit_price: Decimal | None  # fixed once submitted; a draft's at today's list
    amount: Decimal | None
    pieces: list[DealerPiece]
    made_to_measure: bool


@dataclass(frozen=True)
class OrderPage:
    order: DealerOrder
    dealer: OrgUnit
    created_by: Staff
    lines: list[LineView]
    events: list[tuple[DealerOrderEvent, str]]
    steps: list[Step]
    piece_steps: dict[int, list[Step]] = field(default_factory=dict)

    @property
    def total(self) -> Decimal | None:
        amounts = [line.amount for line in self.lines]
        if any(a is None for a in amounts):
            return None
        return sum((a for a in amounts if a is not None), Decimal("0.00"))


async def order_page(staff: Staff, order: DealerOrder) -> OrderPage:
    await order.refresh_from_db()
    dealer = await OrgUnit.get(id=order.dealer_id)
    lines = await DealerOrderLine.filter(order_id=order.id).order_by("id").prefetch_related("product")
    pieces = await DealerPiece.filter(order_id=order.id).order_by("id")
    by_line: dict[int, list[DealerPiece]] = {}
    for piece in pieces:
        by_line.setdefault(piece.line_id, []).append(piece)
    today = {}
    if order.state == D.DRAFT:
        today = await prices_for(unit=dealer, on=local_today(), product_ids=[line.product_id for line in lines])
    views = []
    for line in lines:
        price = today[line.product_id].price if order.state == D.DRAFT else line.unit_price
        amount = None if price is None else (price * line.quantity).quantize(CENT)
        views.append(
            LineView(line, line.product, price, amount, by_line.get(line.id, []), made_to_measure(line.product))
        )
    events = await DealerOrderEvent.filter(order_id=order.id).order_by("at", "id").prefetch_related("actor")
    return OrderPage(
        order=order,
        dealer=dealer,
        created_by=await Staff.get(id=order.created_by_id),
        lines=views,
        events=[(e, event_text(e)) for e in events],
        steps=await DEALER_ORDER.available(staff, order),
        piece_steps={p.id: await DEALER_PIECE.available(staff, p, order) for p in pieces},
    )


def event_text(event: DealerOrderEvent) -> str:
    who = event.actor.name if event.actor is not None else "系统"
    kind = DealerEventKind(event.kind)
    extra = event.payload or {}
    if kind == DealerEventKind.RETURNED:
        return f"{who} 退回：{extra.get('reason', '')}"
    if kind == DealerEventKind.SUBMITTED:
        return f"{who} 提交订货单，金额 ¥{extra.get('amount', '')}"
    if kind == DealerEventKind.ACCEPTED:
        return f"{who} 接单，工厂订单号 {extra.get('factory_number', '')}"
    if kind == DealerEventKind.COPIED:
        return f"{who} 复制为新订货单 {extra.get('copy', '')}"
    if kind == DealerEventKind.PIECE_MOVED:
        return f"{who} {extra.get('production_number', '')}：{extra.get('state', '')}"
    return f"{who} {kind.label}"


# Lists


@dataclass(frozen=True)
class OrderFilter:
    """The seed's filters: a period (by the day it was made), who placed it, the dealer (legal entity), the
    type, an amount range, the state, and a number."""

    start: date | None = None
    end: date | None = None  # inclusive
    staff_id: int | None = None
    dealer_id: int | None = None
    kind: DealerOrderKind | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    state: DealerOrderState | None = None
    q: str = ""

    def as_dict(self) -> dict[str, str]:
        values = {
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
            "staff": str(self.staff_id or ""),
            "dealer": str(self.dealer_id or ""),
            "kind": self.kind.value if self.kind else "",
            "min": f"{self.min_amount}" if self.min_amount is not None else "",
            "max": f"{self.max_amount}" if self.max_amount is not None else "",
            "state": self.state.value if self.state else "",
            "q": self.q,
        }
        return {k: v for k, v in values.items() if v}


LIST_LIMIT = 500


async def list_orders(staff: Staff, f: OrderFilter, *, limit: int = LIST_LIMIT) -> list[DealerOrder]:
    """The orders the member may see, newest first: a dealer's own unit's (drafts too), a dealer manager's
    every dealer's in their part of the company (not drafts)."""
    units = [u.id for u in await dealer_units_for(staff)]
    if not units:
        raise NotAllowed("只有经销商和经销商管理可以查看订货单")
    query = DealerOrder.filter(dealer_id__in=units)
    if not staff.has_role(Role.DEALER):
        query = query.exclude(state=D.DRAFT)
    if f.dealer_id is not None:
        query = query.filter(dealer_id=f.dealer_id)
    if f.start is not None:
        query = query.filter(created_at__gte=local_moment(f.start))
    if f.end is not None:
        query = query.filter(created_at__lt=local_moment(f.end + timedelta(days=1)))
    if f.staff_id is not None:
        query = query.filter(created_by_id=f.staff_id)
    if f.kind is not None:
        query = query.filter(kind=f.kind)
    if f.state is not None:
        query = query.filter(state=f.state)
    if f.min_amount is not None:
        query = query.filter(amount__gte=f.min_amount)
    if f.max_amount is not None:
        query = query.filter(amount__lte=f.max_amount)
    if f.q.strip():
        q = f.q.strip().upper()[:32]
        query = query.filter(Q(number__icontains=q) | Q(factory_number__icontains=q))
    return await query.order_by("-created_at", "-id").limit(limit).prefetch_related("dealer", "created_by")


async def staff_choices(staff: Staff) -> list[Staff]:
    """Who placed orders in the member's dealers: the list's 下单人 filter."""
    units = [u.id for u in await dealer_units_for(staff)]
    ids = await DealerOrder.filter(dealer_id__in=units).distinct().values_list("created_by_id", flat=True)
    return await Staff.filter(id__in=list(ids)).order_by("name")


EXPORT_HEADER = ["订货单号", "工厂订单号", "经销商", "类型", "下单人", "下单时间", "提交时间", "金额", "状态"]


def export_rows(orders: Iterable[DealerOrder]) -> list[list[Any]]:
    """The list's columns, amounts as numbers (a spreadsheet sums them)."""
    rows: list[list[Any]] = [EXPORT_HEADER]
    for o in orders:
        rows.append(
            [
                o.number,
                o.factory_number or "",
                o.dealer.name,
                DealerOrderKind(o.kind).label,
                o.created_by.name,
                fmt_full_time(o.created_at),
                fmt_full_time(o.submitted_at) if o.submitted_at else "",
                float(o.amount),
                DealerOrderState(o.state).label,
            ]
        )
    return rows


async def owed(units: Iterable[int]) -> Decimal:
    """What the dealer owes the factory: the amounts of its accepted orders (no dealer payments are recorded
    in Relay yet: the factory's books settle them)."""
    amounts = await DealerOrder.filter(dealer_id__in=list(units), state=D.ACCEPTED).values_list("amount", flat=True)
    return sum((Decimal(str(a)) for a in amounts), Decimal("0.00"))


# The dealers' KPIs (the managers' dashboard)


@dataclass(frozen=True)
class DealerKpi:
    dealer: OrgUnit
    orders: int  # submitted in the period (every order that reached the company)
    amount: Decimal  # of those accepted
    returned: int
    accept_hours: float | None  # submitted -> accepted, on average
    finish_days: float | None  # accepted -> every piece finished, on average (orders whose pieces are all done)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds()


def _average(values: list[float], unit: float) -> float | None:
    return round(sum(values) / len(values) / unit, 1) if values else None


async def dealer_kpis(unit: OrgUnit, start: datetime, end: datetime) -> list[DealerKpi]:
    """Per dealer under `unit`: its orders submitted in [start, end)."""
    result = []
    for dealer in await OrgUnit.filter(kind=UnitKind.DEALER, path__startswith=unit.path).order_by("name"):
        orders = await DealerOrder.filter(dealer_id=dealer.id, submitted_at__gte=start, submitted_at__lt=end)
        accepted = [o for o in orders if o.state == D.ACCEPTED]
        finished: dict[int, list[datetime | None]] = {}
        rows = await DealerPiece.filter(order_id__in=[o.id for o in accepted]).values_list("order_id", "finished_at")
        for order_id, at in rows:
            finished.setdefault(order_id, []).append(at)
        waits, makes = [], []
        for o in accepted:
            if (wait := _seconds(o.submitted_at, o.accepted_at)) is not None:
                waits.append(wait)
            times = finished.get(o.id, [])
            done = [t for t in times if t is not None]
            if done and len(done) == len(times) and (make := _seconds(o.accepted_at, max(done))) is not None:
                makes.append(make)
        result.append(
            DealerKpi(
                dealer=dealer,
                orders=len(orders),
                amount=sum((Decimal(str(o.amount)) for o in accepted), Decimal("0.00")),
                returned=sum(1 for o in orders if o.returned_at is not None),
                accept_hours=_average(waits, 3600),
                finish_days=_average(makes, 86400),
            )
        )
    return result
