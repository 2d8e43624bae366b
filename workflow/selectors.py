"""Reads: the views cards and pages show. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

from cards.views import OrderView, TaskView
from infra.runtime import runtime
from infra.security import normalize_phone
from infra.timeutil import local_today
from models import (
    Attachment,
    AttachmentCategory,
    Customer,
    Order,
    OrderItem,
    OrderPiece,
    PieceState,
    Staff,
    Task,
    TaskState,
    Ticket,
    TicketState,
)
from models.enums import SITE_PHOTO_CATEGORIES
from workflow.pricing import UNPRICED, fmt_money
from workflow.privacy import phone_of
from workflow.timeline import timeline


def item_label(item: OrderItem) -> str:
    room = f"{item.room}：" if item.room else ""
    qty = f"×{item.quantity}" if item.quantity != 1 else ""
    return f"{room}{item.series} {item.model}{qty}"


@dataclass(frozen=True)
class PricedLine:
    """One order line as the money viewers see it; prices are text (未定价 when there is none)."""

    label: str
    quantity: int
    unit: str
    list_price: str
    unit_price: str
    amount: str


async def priced_lines_of(order: Order) -> list[PricedLine]:
    """The order's lines with the prices they were sold at. A line keeps its series, model and prices
    when its product is later retired or repriced: they were copied onto the line."""
    items = await OrderItem.filter(order_id=order.id).order_by("id").prefetch_related("product")
    return [
        PricedLine(
            label=item_label(i),
            quantity=i.quantity,
            unit=i.product.unit if i.product else "",
            list_price=fmt_money(i.list_price),
            unit_price=fmt_money(i.unit_price),
            amount=fmt_money(i.amount),
        )
        for i in items
    ]


def money_line(order: Order) -> str:
    """The order's money in one line, for a card: the contract, and what was given off the list."""
    if order.contract_amount is None:
        return UNPRICED
    text = f"合同 {fmt_money(order.contract_amount)}"
    if order.list_amount is not None and order.list_amount > order.contract_amount:
        text += f"（价目 {fmt_money(order.list_amount)}，优惠 {fmt_money(order.list_amount - order.contract_amount)}）"
    return text


async def order_view(order: Order, *, with_timeline: bool = False, with_money: bool = False) -> OrderView:
    customer = await Customer.get(id=order.customer_id)
    sales = await Staff.get(id=order.sales_id)
    items = await OrderItem.filter(order_id=order.id).order_by("id")
    return OrderView(
        id=order.id,
        number=order.number,
        state=order.state.value,
        state_label=order.state.label,
        customer_name=customer.name,
        phone=phone_of(customer),
        address=order.address,
        items=[item_label(i) for i in items],
        sales_name=sales.name,
        expected_measure_date=order.expected_measure_date,
        timeline=await timeline(order, with_money=with_money) if with_timeline else [],
        money=money_line(order) if with_money else "",
        production_order_number=order.production_order_number,
        expected_install_date=await expected_install_date(order),
    )


async def expected_install_date(order: Order) -> date | None:
    """The order's expected install date: its latest piece's expected completion (not before today)
    plus production.transit_days. None before release, or once every piece is in (the install is then
    booked, not expected)."""
    if order.production_order_number is None:
        return None
    pieces = await OrderPiece.filter(order_id=order.id).values_list("state", "expected_date")
    if not pieces or all(s in (PieceState.IN_STOCK, PieceState.INSTALLED) for s, _ in pieces):
        return None
    latest = max((d for _, d in pieces if d is not None), default=None)
    if latest is None:
        return None
    return max(latest, local_today()) + timedelta(days=runtime().config.production.transit_days)


async def task_view(task: Task) -> TaskView:
    order = await Order.get(id=task.order_id)
    return TaskView(
        id=task.id,
        kind_label=task.kind.label,
        state_label=task.state.label,
        scheduled_date=task.scheduled_date,
        order=await order_view(order),
    )


async def orders_with_phone(phone: str) -> list[str]:
    """Order numbers already placed with this phone (the blind index: no phone is decrypted)."""
    index = runtime().vault.blind_index(normalize_phone(phone))
    numbers = await Order.filter(customer__phone_index=index).order_by("-id").values_list("number", flat=True)
    return [str(n) for n in numbers]


# A service ticket's visit fills an installer's day as an order's job does.
TICKET_VISIT_STATES = (TicketState.DISPATCHED, TicketState.ACCEPTED)


async def tasks_on(staff_ids: list[int], day: date) -> dict[int, int]:
    """Visits each member has that day: the orders' jobs and the service tickets' visits."""
    tasks = await Task.filter(
        assignee_id__in=staff_ids,
        scheduled_date=day,
        state__in=[TaskState.ASSIGNED, TaskState.ACCEPTED, TaskState.DONE],
    ).values_list("assignee_id", flat=True)
    tickets = await Ticket.filter(
        assignee_id__in=staff_ids, scheduled_date=day, state__in=[*TICKET_VISIT_STATES, TicketState.DONE]
    ).values_list("assignee_id", flat=True)
    counts: dict[int, int] = {}
    for sid in [*tasks, *tickets]:
        counts[cast(int, sid)] = counts.get(cast(int, sid), 0) + 1
    return counts


async def attachment_counts(order: Order) -> tuple[int, int, int]:
    """(categorised site photos, unsorted photos, drawings)."""
    standing = Attachment.filter(order_id=order.id, removed_at__isnull=True)
    photos = await standing.filter(category__in=list(SITE_PHOTO_CATEGORIES)).count()
    unsorted = await standing.filter(category=AttachmentCategory.UNSORTED).count()
    drawings = await standing.filter(category=AttachmentCategory.DRAWING).count()
    return photos, unsorted, drawings


async def order_files(order: Order) -> list[Attachment]:
    """The order's files as they stand: a removed upload (已删除) is not among them."""
    return await Attachment.filter(order_id=order.id, removed_at__isnull=True).order_by("category", "id")
