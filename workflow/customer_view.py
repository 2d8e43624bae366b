"""The customer's own order page, in their words: where the order is, what comes next, the products,
the install photos, the signature and the visit. Plain data, for the page and for anything else that
tells the customer about their order (a message, a notice).

The stages are the order's states in their order; what comes next is read from the order table (the
row that takes the order forward from where it is), not written again here. Nothing here names a
member's phone or userid, another customer, a price or an internal note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from infra.security import mask_phone
from infra.timeutil import local
from models import (
    Attachment,
    AttachmentCategory,
    CustomerRequest,
    CustomerRequestState,
    Order,
    OrderItem,
    OrderPiece,
    OrderState,
    Signature,
    Staff,
    Task,
    TaskKind,
    Visit,
)
from models.enums import LIVE_TASK_STATES, OPEN_TASK_STATES
from workflow.customer_requests import latest_request, reschedulable
from workflow.goods import piece_label
from workflow.order_lifecycle import ORDER
from workflow.privacy import phone_of

S = OrderState
STATES: list[OrderState] = [s for s in OrderState if s != S.CANCELLED]

# Each state as the customer's progress list names it, and what it means for them while it is the latest.
STAGE_LABELS: dict[OrderState, str] = {
    S.CREATED: "下单",
    S.MEASURE_SCHEDULED: "预约测量",
    S.MEASURED: "测量完成",
    S.DESIGNED: "设计完成",
    S.CONFIRMED: "生产中",
    S.IN_STOCK: "已到货",
    S.INSTALL_SCHEDULED: "预约安装",
    S.INSTALLED: "安装完成",
    S.SIGNED: "签字",
    S.VISITED: "回访",
}
NOW_TEXT: dict[OrderState, str] = {
    S.CREATED: "订单已提交，正在为您安排上门测量",
    S.MEASURE_SCHEDULED: "已为您预约上门测量",
    S.MEASURED: "测量已完成，设计师正在为您出方案",
    S.DESIGNED: "设计方案已完成，请与销售顾问确认",
    S.CONFIRMED: "方案已确认，产品生产中",
    S.IN_STOCK: "产品已全部到货，正在为您安排安装",
    S.INSTALL_SCHEDULED: "已为您预约上门安装",
    S.INSTALLED: "安装已完成，请查看安装照片并签字确认",
    S.SIGNED: "您已签字确认，客服会尽快回访",
    S.VISITED: "订单已完成，感谢您的评价",
    S.CANCELLED: "订单已取消",
}
# What the next step is, by the state the table's forward row goes to.
NEXT_TEXT: dict[OrderState, str] = {
    S.MEASURE_SCHEDULED: "预约测量师傅上门测量的日期",
    S.MEASURED: "测量师傅按预约日期上门测量",
    S.DESIGNED: "设计师根据测量结果出设计方案",
    S.CONFIRMED: "与销售顾问确认方案并付款，随后开始生产",
    S.IN_STOCK: "产品生产完成后送到仓库",
    S.INSTALL_SCHEDULED: "预约安装师傅上门安装的日期",
    S.INSTALLED: "安装师傅按预约日期上门安装",
    S.SIGNED: "查看安装照片，在手机上签字确认",
    S.VISITED: "客服回访，听取您的评价",
}
DONE_TEXT = "全部完成，如需维修或保养请点击下方“报修 / 反馈问题”"
CANCELLED_TEXT = "订单已取消，如有疑问请联系您的销售顾问"

SCORED = (("sales", "销售顾问"), ("measurer", "测量"), ("installer", "安装"))


@dataclass(frozen=True)
class Stage:
    state: str  # the OrderState value it stands for
    label: str
    status: str  # done | current | todo | skipped | cancelled
    detail: str = ""


@dataclass(frozen=True)
class PieceLine:
    label: str
    state: str  # PieceState value
    state_label: str


@dataclass(frozen=True)
class Appointment:
    """A booked visit: what, which day, who comes, and the customer's request to move it."""

    kind: str  # TaskKind value
    kind_label: str
    day: date
    worker: str
    may_reschedule: bool
    request_text: str = ""  # 已提交改期申请，等待确认 / 已改到新时间 …


@dataclass(frozen=True)
class CustomerView:
    number: str
    customer_name: str
    phone_masked: str
    address: str
    state: str
    now: str  # where the order is, in a sentence
    next: str  # what comes next (下一步：…), or that nothing does
    cancelled: bool
    stages: list[Stage]
    items: list[str]
    pieces: list[PieceLine] = field(default_factory=list)
    expected_done: date | None = None
    appointment: Appointment | None = None
    photos: list[int] = field(default_factory=list)  # install photos' attachment ids
    may_sign: bool = False
    signed_at: datetime | None = None
    signature_id: int | None = None
    rating: list[tuple[str, int]] = field(default_factory=list)
    visited: bool = False


def next_state(state: OrderState) -> OrderState | None:
    """Where the order goes next: the nearest state a row of the table takes it forward to from here."""
    if state == S.CANCELLED:
        return None
    here = STATES.index(state)
    ahead = [
        t.target
        for t in ORDER
        if state in t.source and t.target is not None and t.target in STATES and STATES.index(t.target) > here
    ]
    return min(ahead, key=STATES.index, default=None)


def _day(moment: datetime | None) -> str:
    return f"{local(moment):%Y-%m-%d}" if moment else ""


async def _job(order: Order, kind: TaskKind) -> Task | None:
    """The order's live job of this kind (the newest not declined, cancelled or superseded)."""
    return (
        await Task.filter(order_id=order.id, kind=kind, superseded=False, state__in=list(LIVE_TASK_STATES))
        .order_by("-id")
        .first()
    )


def _request_text(request: CustomerRequest | None, task: Task) -> str:
    if request is None:
        return ""
    if request.state == CustomerRequestState.OPEN:
        return f"已提交改期申请（希望 {request.wanted_date.isoformat()} {request.wanted_part.label}），等待确认"
    if task.scheduled_date != request.booked_date:
        return f"改期申请已处理，新的时间：{task.scheduled_date.isoformat()}"
    return "改期申请已处理，预约日期不变，如有疑问请联系您的销售顾问"


async def customer_view(order: Order) -> CustomerView:
    await order.refresh_from_db()
    customer = await order.customer
    state = order.state
    cancelled = state == S.CANCELLED
    reached = order.cancelled_from if cancelled and order.cancelled_from else state
    signature = await Signature.get_or_none(order_id=order.id)
    measure, install = await _job(order, TaskKind.MEASURE), await _job(order, TaskKind.INSTALL)
    pieces = await OrderPiece.filter(order_id=order.id).order_by("item_id", "seq")
    items = {i.id: i for i in await OrderItem.filter(order_id=order.id).order_by("id")}
    arrived = sum(1 for p in pieces if p.arrived_at is not None)

    details: dict[OrderState, str] = {
        S.CREATED: _day(order.created_at),
        S.MEASURED: _day(order.measured_at),
        S.DESIGNED: _day(order.designed_at),
        S.CONFIRMED: _day(order.confirmed_at),
        S.IN_STOCK: _day(order.in_stock_at),
        S.INSTALLED: _day(order.installed_at),
        S.SIGNED: _day(signature.signed_at) if signature else "",
        S.VISITED: _day(order.visited_at),
    }
    if measure is not None:
        details[S.MEASURE_SCHEDULED] = f"上门日期 {measure.scheduled_date.isoformat()}"
    elif order.expected_measure_date:
        details[S.MEASURE_SCHEDULED] = f"您期望的日期 {order.expected_measure_date.isoformat()}，待安排"
    if install is not None:
        details[S.INSTALL_SCHEDULED] = f"上门日期 {install.scheduled_date.isoformat()}"
    if state == S.CONFIRMED and pieces and arrived:
        details[S.IN_STOCK] = f"已到 {arrived}/{len(pieces)} 件"

    stages = []
    for s in STATES:
        index, at = STATES.index(s), STATES.index(reached)
        if s == S.SIGNED and signature is None and index < at:
            status = "skipped"  # visited without a signature on the page
        elif index < at or (index == at and not cancelled):
            status = "current" if index == at else "done"
        elif index == at:
            status = "cancelled"
        else:
            status = "todo"
        # A stage ahead has no date yet, but the measuring the customer asked for is worth repeating.
        detail = details.get(s, "") if status != "todo" or s == S.MEASURE_SCHEDULED else ""
        stages.append(Stage(s.value, STAGE_LABELS[s], status, "未签字" if status == "skipped" else detail))

    ahead = next_state(state)
    if cancelled:
        next_text = CANCELLED_TEXT
    elif ahead is None:
        next_text = DONE_TEXT
    else:
        next_text = f"下一步：{NEXT_TEXT[ahead]}"

    appointment = None
    booked = {S.MEASURE_SCHEDULED: measure, S.INSTALL_SCHEDULED: install}.get(state)
    if booked is not None and booked.state in OPEN_TASK_STATES:
        worker = await Staff.get_or_none(id=booked.assignee_id) if booked.assignee_id else None
        open_job = await reschedulable(order)
        request = await latest_request(booked)
        appointment = Appointment(
            kind=booked.kind.value,
            kind_label=booked.kind.label,
            day=booked.scheduled_date,
            worker=worker.name if worker else "",
            may_reschedule=open_job is not None
            and not (request is not None and request.state == CustomerRequestState.OPEN),
            request_text=_request_text(request, booked),
        )

    released = order.production_order_number is not None
    piece_lines = (
        [PieceLine(piece_label(items[p.item_id], p), p.state.value, p.state.label) for p in pieces] if released else []
    )
    photos = await Attachment.filter(
        order_id=order.id, category=AttachmentCategory.INSTALL, removed_at__isnull=True
    ).order_by("id")
    visit = await Visit.filter(order_id=order.id, reached=True).order_by("-id").first()
    rating = (
        [(label, score) for key, label in SCORED if (score := getattr(visit, f"score_{key}")) is not None]
        if visit is not None
        else []
    )
    return CustomerView(
        number=order.number,
        customer_name=customer.name,
        phone_masked=mask_phone(phone_of(customer)) if customer.erased_at is None else "",
        address=order.address,
        state=state.value,
        now=NOW_TEXT[state],
        next=next_text,
        cancelled=cancelled,
        stages=stages,
        items=[_item(i) for i in items.values()],
        pieces=piece_lines,
        expected_done=max((p.expected_date for p in pieces if p.expected_date), default=None) if released else None,
        appointment=appointment,
        photos=[p.id for p in photos],
        may_sign=signature is None and await ORDER.may(ORDER["sign"], None, order),
        signed_at=signature.signed_at if signature else None,
        signature_id=signature.attachment_id if signature else None,
        rating=rating,
        visited=visit is not None,
    )


def _item(item: OrderItem) -> str:
    """A product as the customer reads it: the room, the series and model, how many; never its price."""
    room = f"{item.room}：" if item.room else ""
    qty = f" ×{item.quantity}" if item.quantity != 1 else ""
    return f"{room}{item.series} {item.model}{qty}"
