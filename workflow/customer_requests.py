"""The customer asks, from their own order page, to move a booked visit (measuring or installing).

The request is a row of the order's table (request_reschedule_measure / _install, the customer's link):
it may be made while that visit is booked and not done. The dispatchers over the order get a card with
the wish and the 调整 page; whoever may reschedule the job (the same table's reschedule row) settles it
with 已处理, and rescheduling the job settles it by itself.
"""

from __future__ import annotations

from datetime import date, timedelta

from tortoise.transactions import in_transaction

from infra.timeutil import local_today, utcnow
from models import CustomerRequest, CustomerRequestState, DayPart, EventKind, Order, Staff, Task, TaskKind
from models.flows import FLOWS
from workflow import notify, timeline
from workflow.errors import Conflict, Invalid, NotAllowed, NotFound
from workflow.lifecycle import Facts, Transition, apply, members_for
from workflow.order_lifecycle import ORDER, job

NOTE_LIMIT = 200
# How far ahead a customer may ask: a visit is booked within weeks, not seasons.
AHEAD_DAYS = 180


def request_row(order: Order) -> Transition | None:
    """The table's request row for the visit the order is booked for now (None: no visit is booked)."""
    for kind in FLOWS:
        row = ORDER[f"request_reschedule_{kind.value}"]
        if order.state in row.source:
            return row
    return None


async def reschedulable(order: Order) -> Task | None:
    """The booked visit the customer may ask to move now, if any (the table's row, judged for the link)."""
    row = request_row(order)
    if row is None:
        return None
    try:
        return await ORDER.check(row, None, order)
    except (Conflict, NotAllowed):
        return None


def _check_wish(wanted: date, task: Task, note: str) -> None:
    today = local_today()
    if wanted < today:
        raise Invalid("希望的日期不能早于今天", "wanted_date")
    if wanted > today + timedelta(days=AHEAD_DAYS):
        raise Invalid(f"希望的日期请选择 {AHEAD_DAYS} 天以内", "wanted_date")
    if wanted == task.scheduled_date:
        raise Invalid("希望的日期与原定日期相同", "wanted_date")
    if len(note) > NOTE_LIMIT:
        raise Invalid(f"留言请不超过 {NOTE_LIMIT} 字", "note")


async def request_reschedule(
    *, order: Order, kind: TaskKind, wanted: date, part: DayPart, note: str
) -> CustomerRequest:
    """The customer's wish to move the booked visit of this kind, from the page their signed link opens
    (the caller has checked the link)."""
    if kind not in FLOWS:
        raise Invalid("请选择要改期的预约", "kind")
    row = ORDER[f"request_reschedule_{kind.value}"]
    try:
        task = await ORDER.check(row, None, order)
    except Conflict:
        raise Conflict("目前没有可以改期的预约") from None
    assert task is not None
    note = note.strip()
    _check_wish(wanted, task, note)
    async with in_transaction():
        await Order.select_for_update().filter(id=order.id).first()  # one request at a time per order
        if await CustomerRequest.filter(task_id=task.id, state=CustomerRequestState.OPEN).exists():
            raise Conflict("您已提交过改期申请，请等待确认")
        request = await CustomerRequest.create(
            order=order,
            task=task,
            kind=task.kind,
            booked_date=task.scheduled_date,
            wanted_date=wanted,
            wanted_part=part,
            note=note,
        )
        await apply(
            row,
            actor=None,
            order=order,
            event={
                "job": task.kind.label,
                "booked": task.scheduled_date.isoformat(),
                "wanted": f"{wanted.isoformat()} {part.label}",
                "note": f"（{note}）" if note else "",
            },
        )
        await notify.reschedule_requested(request, order, await members_for(job(task.kind, "reschedule"), order))
    return request


async def handle_request(*, actor: Staff, request_id: int) -> CustomerRequest:
    """已处理: by whoever may reschedule the job over this order (the table's reschedule row), in any state:
    a request for a visit since done is settled as well."""
    request = await CustomerRequest.get_or_none(id=request_id)
    if request is None:
        raise NotFound("改期申请不存在")
    order = await Order.get(id=request.order_id)
    step = job(request.kind, "reschedule")
    ORDER.check_role(step, actor)
    facts = await Facts.of(actor, order)
    if not any(facts.holds(rule, step) for rule in step.who):
        raise NotAllowed(f"订单 {order.number} 不在你负责的范围内")
    async with in_transaction():
        if not await _settle(request, actor):
            await request.refresh_from_db()
            who = await Staff.get_or_none(id=request.handled_by_id) if request.handled_by_id else None
            raise Conflict(f"这个改期申请已由{who.name if who else '他人'}处理", "已处理")
        await timeline.record(order, actor, EventKind.RESCHEDULE_REQUEST_HANDLED, job=request.kind.label, result="")
        await notify.reschedule_request_settled(request, f"已由{actor.name}处理", skip=actor.userid)
    return request


async def settle_for_rescheduled(task: Task, actor: Staff, day: date) -> None:
    """The job was rescheduled: the customer's open request about it is settled (inside the caller's
    transaction)."""
    for request in await CustomerRequest.filter(task_id=task.id, state=CustomerRequestState.OPEN):
        if await _settle(request, actor):
            order = await Order.get(id=request.order_id)
            await timeline.record(
                order,
                actor,
                EventKind.RESCHEDULE_REQUEST_HANDLED,
                job=request.kind.label,
                result=f"，已改到 {day.isoformat()}",
            )
            await notify.reschedule_request_settled(request, f"已改期到 {day.isoformat()}")


async def _settle(request: CustomerRequest, actor: Staff) -> bool:
    moved = await CustomerRequest.filter(id=request.id, state=CustomerRequestState.OPEN).update(
        state=CustomerRequestState.HANDLED, handled_by_id=actor.id, handled_at=utcnow()
    )
    await request.refresh_from_db()
    return bool(moved)


async def latest_request(task: Task | None) -> CustomerRequest | None:
    """The customer's last request about this job (what their page tells them about it)."""
    if task is None:
        return None
    return await CustomerRequest.filter(task_id=task.id).order_by("-id").first()
