"""Service tickets (售后工单: 维修 / 投诉 / 保养): opened, booked, done, confirmed by the customer.

A ticket comes from the customer's own page, from staff (chat `报修 <订单号>` or the order page's 报修), from
a low visit score, or from the maintenance cycle. After-sales of the order's unit book it with an installer
the way installs are booked (the same suggestion: free that day first, then fewest jobs, then the best
score); the installer accepts or declines it on a card, sends photos before and after the work in the chat
(or on the ticket's page) and taps 完成; the customer confirms on the ticket's page (a tap, or a signature).
Every step is a row of workflow/ticket_lifecycle.py and a line on the order's timeline; every message goes
out in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from infra.runtime import runtime
from infra.storage import StoredFile
from infra.timeutil import fmt_time, local_today, utcnow
from models import (
    Attachment,
    AttachmentCategory,
    Order,
    Role,
    Staff,
    Ticket,
    TicketKind,
    TicketSource,
    TicketState,
)
from models.enums import OPEN_TICKET_STATES
from models.flows import INSTALL
from workflow import notify, timeline
from workflow.attachments import attach
from workflow.chat import TICKET_PHOTOS, chat
from workflow.customer_link import customer_token, order_for_customer_link
from workflow.errors import Conflict, Invalid, NotAllowed, NotFound
from workflow.machine import Step
from workflow.order_lifecycle import ORDER
from workflow.scope import can_see, staff_covering, staff_within
from workflow.signing import check_signature_image
from workflow.tasks import Suggestion, rank_workers
from workflow.ticket_lifecycle import TICKET, apply_ticket, ticket_name

MAX_DESCRIPTION = 1000
# The customer's words for what they report, and the ticket kind each becomes. A suggestion or a
# question is answered by after-sales like a complaint (seed 004: 咨询、投诉或建议).
CUSTOMER_KINDS = {
    "repair": (TicketKind.REPAIR, "维修（东西坏了、漏水、松动）"),
    "maintenance": (TicketKind.MAINTENANCE, "保养（清洗、维护）"),
    "complaint": (TicketKind.COMPLAINT, "投诉"),
    "suggestion": (TicketKind.COMPLAINT, "建议或咨询"),
}
STAFF_KINDS = {k.value: k.label for k in TicketKind}

# What a ticket's state means to the customer, in plain words.
CUSTOMER_WORDS = {
    TicketState.OPEN: "已收到，正在为您安排师傅",
    TicketState.DISPATCHED: "已安排师傅，等待师傅确认上门时间",
    TicketState.ACCEPTED: "师傅已接单，将按约定时间上门",
    TicketState.DONE: "师傅已处理完成，请您确认",
    TicketState.CONFIRMED: "您已确认处理完成，感谢您的反馈",
    TicketState.CLOSED: "已办结",
    TicketState.CANCELLED: "已取消",
}


def deadline_for(kind: TicketKind, since: datetime) -> datetime:
    config = runtime().config.tickets
    days = {
        TicketKind.REPAIR: config.repair_days,
        TicketKind.COMPLAINT: config.complaint_days,
        TicketKind.MAINTENANCE: config.maintenance_days,
    }[kind]
    return since + timedelta(days=max(days, 1))


def customer_ticket_url(order: Order, ticket: Ticket) -> str:
    """The customer's page of one ticket (status, confirmation): beside their order page."""
    return runtime().links.h5(f"/c/{customer_token(order)}/tickets/{ticket.id}")


async def _numbered(now: datetime, **values: Any) -> Ticket:
    """S2612-0001: S, the year and month, the month's sequence. Two opened at once: the second takes the next."""
    prefix = f"S{now:%y%m}-"
    for _ in range(20):
        last = await Ticket.filter(number__startswith=prefix).order_by("-number").first()
        seq = int(last.number.rsplit("-", 1)[1]) + 1 if last else 1
        try:
            async with in_transaction():  # a savepoint: a clash rolls back this insert alone
                return await Ticket.create(number=f"{prefix}{seq:04d}", state_since=now, **values)
        except IntegrityError:
            continue
    raise Conflict("工单编号生成失败，请重试")


def _description(text: str, *, required: bool) -> str:
    text = text.strip()
    if required and not text:
        raise Invalid("请描述遇到的问题", "description")
    if len(text) > MAX_DESCRIPTION:
        raise Invalid(f"问题描述请在 {MAX_DESCRIPTION} 字以内", "description")
    return text


async def suggestion_for(order: Order, dispatcher: Staff | None, day: date | None = None) -> list[Suggestion]:
    """The installers to offer, best first: the install dispatch's ranking (free that day, fewest jobs, best
    score) over the installers of the dispatcher's part of the company."""
    day = max(day or local_today(), local_today())
    if dispatcher is None:
        return []
    return await rank_workers(INSTALL, dispatcher=dispatcher, day=day)


async def _tell_after_sales(ticket: Ticket, order: Order, *, title: str = "", note: str = "") -> None:
    to = await members_for_ticket(order)
    ranked = await suggestion_for(order, to[0] if to else None)
    best = ranked[0] if ranked else None
    suggestion = (best.staff.id, best.staff.name, best.day) if best else None
    await notify.ticket_opened(ticket, to, suggestion=suggestion, title=title, note=note)


async def members_for_ticket(order: Order) -> list[Staff]:
    """Who books tickets on this order: after-sales over it (else its managers)."""
    return await staff_covering(order, Role.AFTER_SALES) or await staff_covering(order, Role.MANAGER)


async def open_ticket(
    *,
    actor: Staff | None,
    order: Order,
    kind: TicketKind,
    source: TicketSource,
    description: str,
    photos: list[StoredFile] | None = None,
    by_customer: bool = False,
    note: str = "",
) -> Ticket:
    """Open a ticket. A member or the customer (by_customer, through the order's link) is checked against
    the order table's row open_ticket; a low score and the maintenance cycle open theirs by themselves.
    `note` is what after-sales' card quotes instead of the description (the customer's history)."""
    photos = photos or []
    if actor is not None or by_customer:
        step = ORDER["open_ticket"]
        try:
            await ORDER.check(step, actor, order)
        except Conflict:
            raise Conflict(f"订单 {order.number} {order.state.label}，安装完成后才能报修", "不能报修") from None
    description = _description(
        description, required=source in (TicketSource.CUSTOMER, TicketSource.CHAT, TicketSource.STAFF_H5)
    )
    if len(photos) > runtime().config.tickets.max_photos:
        raise Invalid(f"最多上传 {runtime().config.tickets.max_photos} 张照片", "photos")
    now = utcnow()
    async with in_transaction():
        ticket = await _numbered(
            now,
            order=order,
            kind=kind,
            source=source,
            description=description,
            deadline=deadline_for(kind, now),
            opened_by=actor,
        )
        for n, stored in enumerate(photos, start=1):
            await attach(
                order,
                stored,
                category=AttachmentCategory.TICKET_REPORT,
                uploader=actor,
                filename=f"{ticket.number}-报修照片{n}.jpg",
                ticket_id=ticket.id,
            )
        who = {
            TicketSource.CUSTOMER: "客户在订单页报修",
            TicketSource.LOW_SCORE: "回访评分偏低，自动生成",
            TicketSource.SCHEDULE: "保养周期已到，自动生成",
        }.get(source, f"{actor.name if actor else '员工'} 报修")
        await timeline.record(
            order,
            actor,
            TICKET["open"].event,  # type: ignore[arg-type]
            number=ticket.number,
            kind=kind.label,
            source=who,
            description=(description or "—")[:60],
            deadline=fmt_time(ticket.deadline),
        )
        await _tell_after_sales(ticket, order, note=note)
    return ticket


async def ticket_for(ticket_id: int) -> tuple[Ticket, Order]:
    ticket = await Ticket.get_or_none(id=ticket_id)
    if ticket is None:
        raise NotFound("工单不存在")
    return ticket, await Order.get(id=ticket.order_id)


async def ticket_by_number(actor: Staff, raw: str) -> Ticket:
    ticket = await Ticket.get_or_none(number=raw.strip().upper()[:32])
    if ticket is None or not await may_see_ticket(actor, ticket):
        raise NotFound(f"没有找到工单 {raw.strip()[:32]}")
    return ticket


async def may_see_ticket(actor: Staff, ticket: Ticket) -> bool:
    """The member sees the order, or holds the ticket."""
    if ticket.assignee_id == actor.id:
        return True
    return await can_see(actor, await Order.get(id=ticket.order_id))


async def visible_ticket(actor: Staff, ticket_id: int) -> tuple[Ticket, Order]:
    ticket, order = await ticket_for(ticket_id)
    if not await may_see_ticket(actor, ticket):
        raise NotFound("工单不存在")
    return ticket, order


async def _installer(actor: Staff, worker_id: int) -> Staff:
    worker = await Staff.get_or_none(id=worker_id, active=True)
    if worker is None or not worker.has_role(Role.INSTALLER):
        raise Invalid("所选人员不是安装师傅", "worker")
    if worker.id not in {w.id for w in await staff_within(actor.org_unit_id, Role.INSTALLER)}:
        raise NotAllowed(f"{worker.name} 不在你负责的团队中")
    return worker


def _check_day(day: date | None) -> date:
    if day is None:
        raise Invalid("请选择上门日期", "date")
    if day < local_today():
        raise Invalid("日期不能早于今天", "date")
    return day


async def dispatch_ticket(*, actor: Staff, ticket_id: int, worker_id: int, day: date | None) -> Ticket:
    """Book the ticket with an installer. Of two after-sales tapping at once, one wins; the other is told who."""
    ticket, order = await ticket_for(ticket_id)
    step = TICKET["dispatch"]
    try:
        await TICKET.check(step, actor, ticket, order)
    except Conflict:
        raise await _dispatched_already(ticket) from None
    day = _check_day(day)
    worker = await _installer(actor, worker_id)
    async with in_transaction():
        try:
            await apply_ticket(
                step,
                actor=actor,
                ticket=ticket,
                order=order,
                event={"worker": worker.name, "date": day.isoformat()},
                assignee_id=worker.id,
                assigned_by_id=actor.id,
                scheduled_date=day,
                decline_reason="",
            )
        except Conflict:
            raise await _dispatched_already(ticket) from None
        await notify.ticket_assigned(ticket, worker, by=actor)
    return ticket


async def _dispatched_already(ticket: Ticket) -> Conflict:
    await ticket.refresh_from_db()
    if ticket.assignee_id and ticket.assigned_by_id and ticket.state in (TicketState.DISPATCHED, TicketState.ACCEPTED):
        by = await Staff.get(id=ticket.assigned_by_id)
        worker = await Staff.get(id=ticket.assignee_id)
        return Conflict(f"{ticket_name(ticket)} 已由 {by.name} 派给 {worker.name}", f"已由{by.name}派单")
    state = TicketState(ticket.state)
    return Conflict(f"{ticket_name(ticket)} 当前状态：{state.label}", state.label)


async def answer_ticket(*, actor: Staff, ticket_id: int, accept: bool, reason: str = "") -> Ticket:
    ticket, order = await ticket_for(ticket_id)
    step = TICKET["accept" if accept else "decline"]
    await TICKET.check(step, actor, ticket, order)
    async with in_transaction():
        if accept:
            await apply_ticket(step, actor=actor, ticket=ticket, order=order)
            await chat().set(TICKET_PHOTOS, actor.userid, ticket.id * 2)
            await notify.ticket_accepted(ticket, actor)
        else:
            reason = reason.strip()[:255]
            await apply_ticket(
                step,
                actor=actor,
                ticket=ticket,
                order=order,
                event={"reason": reason or "未说明"},
                assignee_id=None,
                decline_reason=reason,
            )
            await _tell_after_sales(
                ticket, order, title="工单被拒，请重新派单", note=f"{actor.name} 拒单：{reason or '未说明原因'}"
            )
    return ticket


async def return_ticket(*, ticket: Ticket, worker: Staff) -> None:
    """The installer left the company: the ticket goes back to after-sales to dispatch, with the card a
    decline gives them. Inside the caller's transaction."""
    ticket, order = await ticket_for(ticket.id)
    await apply_ticket(
        TICKET["return"], actor=None, ticket=ticket, order=order, event={"worker": worker.name}, assignee_id=None
    )
    await _tell_after_sales(ticket, order, title="工单退回，请重新派单", note=f"{worker.name} 已离职，工单退回")


async def reschedule_ticket(*, actor: Staff, ticket_id: int, day: date | None, reason: str = "") -> Ticket:
    ticket, order = await ticket_for(ticket_id)
    step = TICKET["reschedule"]
    await TICKET.check(step, actor, ticket, order)
    day = _check_day(day)
    if day == ticket.scheduled_date:
        raise Invalid("新日期与原日期相同", "date")
    old = ticket.scheduled_date
    async with in_transaction():
        await apply_ticket(
            step,
            actor=actor,
            ticket=ticket,
            order=order,
            event={"old": old.isoformat() if old else "未定", "date": day.isoformat()},
            scheduled_date=day,
        )
        if ticket.assignee_id:
            worker = await Staff.get(id=ticket.assignee_id)
            await notify.ticket_notice(
                ticket,
                [worker.userid],
                title="工单改期",
                text=f"{actor.name} 改到 {day:%m月%d日}：{reason or '未说明'}",
            )
    return ticket


async def reassign_ticket(*, actor: Staff, ticket_id: int, worker_id: int, reason: str = "") -> Ticket:
    ticket, order = await ticket_for(ticket_id)
    step = TICKET["reassign"]
    await TICKET.check(step, actor, ticket, order)
    worker = await _installer(actor, worker_id)
    if worker.id == ticket.assignee_id:
        raise Invalid(f"工单已经是 {worker.name} 的", "worker")
    previous = await Staff.get_or_none(id=ticket.assignee_id) if ticket.assignee_id else None
    async with in_transaction():
        await apply_ticket(
            step,
            actor=actor,
            ticket=ticket,
            order=order,
            event={"worker": worker.name, "previous": previous.name if previous else "—"},
            assignee_id=worker.id,
            assigned_by_id=actor.id,
        )
        await notify.ticket_assigned(ticket, worker, by=actor)
        if previous is not None:
            await notify.ticket_notice(
                ticket,
                [previous.userid],
                title="工单已改派",
                text=f"{actor.name} 改派给 {worker.name}：{reason or '未说明'}",
            )
            await chat().clear(TICKET_PHOTOS, previous.userid, only=ticket.id * 2)
            await chat().clear(TICKET_PHOTOS, previous.userid, only=ticket.id * 2 + 1)
    return ticket


async def settle_ticket(*, actor: Staff, ticket_id: int, reason: str, cancel: bool = False) -> Ticket:
    """办结 (settled without a visit, or done and never confirmed) or 取消: a reason is required."""
    ticket, order = await ticket_for(ticket_id)
    step = TICKET["cancel" if cancel else "close"]
    await TICKET.check(step, actor, ticket, order)
    reason = reason.strip()[:500]
    if not reason:
        raise Invalid("请填写原因" if cancel else "请填写处理结果", "reason")
    held_by = ticket.assignee_id
    async with in_transaction():
        await apply_ticket(step, actor=actor, ticket=ticket, order=order, event={"reason": reason}, resolution=reason)
        if held_by and held_by != actor.id and ticket.state == TicketState.CANCELLED:
            worker = await Staff.get(id=held_by)
            await notify.ticket_notice(ticket, [worker.userid], title="工单已取消", text=f"{actor.name}：{reason}")
    return ticket


async def photo_ticket(staff: Staff) -> tuple[Ticket, bool] | None:
    """The ticket a photo from this installer belongs to, and whether it is after the work."""
    value = await chat().get(TICKET_PHOTOS, staff.userid)
    if value is None:
        return None
    ticket = await Ticket.get_or_none(id=value // 2, assignee_id=staff.id, state=TicketState.ACCEPTED)
    return (ticket, bool(value % 2)) if ticket is not None else None


async def photos_for_ticket(*, actor: Staff, ticket_id: int, after: bool) -> Ticket:
    """The installer's next photos go to this ticket, before or after the work."""
    ticket, order = await ticket_for(ticket_id)
    await TICKET.check(TICKET["add_photo"], actor, ticket, order)
    await chat().set(TICKET_PHOTOS, actor.userid, ticket.id * 2 + (1 if after else 0))
    return ticket


def _photo_category(after: bool) -> AttachmentCategory:
    return AttachmentCategory.TICKET_AFTER if after else AttachmentCategory.TICKET_BEFORE


async def add_ticket_photo(
    *, actor: Staff, ticket: Ticket, stored: StoredFile, after: bool, media_id: str | None = None
) -> tuple[Attachment, int]:
    """One photo before or after the work: the attachment, and how many of that kind the ticket has now."""
    order = await Order.get(id=ticket.order_id)
    step = TICKET["add_photo"]
    await TICKET.check(step, actor, ticket, order)
    category = _photo_category(after)
    if media_id and (existing := await Attachment.get_or_none(media_id=media_id)) is not None:
        photo = existing  # the same chat photo handled again
    else:
        async with in_transaction():
            photo = await attach(
                order,
                stored,
                category=category,
                uploader=actor,
                media_id=media_id,
                filename=f"{ticket.number}-{category.label}.jpg",
                ticket_id=ticket.id,
            )
            await apply_ticket(step, actor=actor, ticket=ticket, order=order, event={"category": category.value})
    count = await Attachment.filter(ticket_id=ticket.id, category=category, removed_at__isnull=True).count()
    return photo, count


async def finish_ticket(*, actor: Staff, ticket_id: int, resolution: str = "") -> Ticket:
    ticket, order = await ticket_for(ticket_id)
    step = TICKET["finish"]
    await TICKET.check(step, actor, ticket, order)
    photos = await Attachment.filter(ticket_id=ticket.id, removed_at__isnull=True).exclude(
        category=AttachmentCategory.TICKET_REPORT
    )
    after = sum(1 for p in photos if p.category == AttachmentCategory.TICKET_AFTER)
    needed = runtime().config.tickets.after_photos
    if after < needed:
        raise Invalid(f"维修后照片不足：至少需要 {needed} 张，已上传 {after} 张（先点“发维修后照片”再发送）")
    resolution = resolution.strip()[:500]
    async with in_transaction():
        await apply_ticket(
            step,
            actor=actor,
            ticket=ticket,
            order=order,
            event={"photos": len(photos), "resolution": resolution or "已处理"},
            done_at=utcnow(),
            resolution=resolution,
        )
        told = [actor.userid, *(s.userid for s in await members_for_ticket(order))]
        await notify.ticket_done(ticket, told, confirm_url=customer_ticket_url(order, ticket))
        await chat().clear(TICKET_PHOTOS, actor.userid, only=ticket.id * 2)
        await chat().clear(TICKET_PHOTOS, actor.userid, only=ticket.id * 2 + 1)
    return ticket


# The customer's side: through the order's link, no account.


async def customer_ticket(token: str, ticket_id: int) -> tuple[Ticket, Order]:
    """The ticket on the customer's link; LinkProblem for a bad link, NotFound for a ticket of another order."""
    order = await order_for_customer_link(token)
    ticket = await Ticket.get_or_none(id=ticket_id, order_id=order.id)
    if ticket is None:
        raise NotFound("没有找到这个服务单，请从您的订单页面进入。")
    return ticket, order


async def report_problem(*, token: str, what: str, description: str, photos: list[StoredFile]) -> tuple[Ticket, Order]:
    """The customer reports a problem on their page."""
    order = await order_for_customer_link(token)
    if what not in CUSTOMER_KINDS:
        raise Invalid("请选择问题类型", "what")
    kind, label = CUSTOMER_KINDS[what]
    text = _description(description, required=True)
    if what == "suggestion":
        text = f"【建议或咨询】{text}"
    ticket = await open_ticket(
        actor=None,
        order=order,
        kind=kind,
        source=TicketSource.CUSTOMER,
        description=text,
        photos=photos,
        by_customer=True,
    )
    return ticket, order


async def confirm_ticket(*, token: str, ticket_id: int, comment: str = "", signature: bytes | None = None) -> Ticket:
    """The customer confirms the work is done: a tap, or a handwritten signature (checked as the install's is)."""
    ticket, order = await customer_ticket(token, ticket_id)
    step = TICKET["confirm"]
    try:
        await TICKET.check(step, None, ticket, order)
    except Conflict:
        raise Conflict(f"这个服务单{CUSTOMER_WORDS[TicketState(ticket.state)]}，无需再确认", "无需确认") from None
    comment = comment.strip()[:500]
    stored = None
    if signature is not None:
        await runtime().files.decode(check_signature_image, signature)
        stored = await runtime().files.put_image(signature)
    async with in_transaction():
        await apply_ticket(
            step,
            actor=None,
            ticket=ticket,
            order=order,
            event={"how": "（手写签名）" if stored else ""},
            confirmed_at=utcnow(),
            confirm_comment=comment,
        )
        if stored is not None:
            await attach(
                order,
                stored,
                category=AttachmentCategory.SIGNATURE,
                uploader=None,
                filename=f"{ticket.number}-客户确认签字.png",
                ticket_id=ticket.id,
            )
        told = [s.userid for s in await members_for_ticket(order)]
        if ticket.assignee_id:
            told.append((await Staff.get(id=ticket.assignee_id)).userid)
        await notify.ticket_notice(
            ticket, told, title="客户已确认工单完成", text=f"客户留言：{comment}" if comment else "客户已确认处理完成"
        )
    return ticket


@dataclass(frozen=True)
class CustomerTicket:
    """A ticket as the customer's page lists it: plain data."""

    id: int
    number: str
    kind: str  # 维修 / 投诉 / 保养
    state: str  # in plain words
    created: datetime
    deadline: datetime
    link: str
    waiting_on_customer: bool


# merge: the customer's own page (/c/{token}, another branch) lists these and links /c/{token}/problem (报告问题).
async def tickets_for_customer(order: Order) -> list[CustomerTicket]:
    """The order's tickets, newest first, for the customer's own page."""
    tickets = await Ticket.filter(order_id=order.id).order_by("-id")
    return [
        CustomerTicket(
            id=t.id,
            number=t.number,
            kind=TicketKind(t.kind).label,
            state=CUSTOMER_WORDS[TicketState(t.state)],
            created=t.created_at,
            deadline=t.deadline,
            link=customer_ticket_url(order, t),
            waiting_on_customer=t.state == TicketState.DONE,
        )
        for t in tickets
    ]


# Opened by themselves


async def open_for_low_score(order: Order, detail: str) -> Ticket | None:
    """A low visit score becomes a complaint (投诉) for after-sales to follow up, once per order's visit."""
    if await Ticket.filter(
        order_id=order.id, source=TicketSource.LOW_SCORE, state__in=list(OPEN_TICKET_STATES)
    ).exists():
        return None
    return await open_ticket(
        actor=None,
        order=order,
        kind=TicketKind.COMPLAINT,
        source=TicketSource.LOW_SCORE,
        description=f"回访评分偏低：{detail}",
    )


async def open_for_maintenance(
    order: Order, *, series: str, months: int, cycle: int, history: list[str] | None = None
) -> Ticket:
    """The maintenance cycle's ticket; its card to after-sales carries the customer's history, so the
    call that books the visit needs no second card."""
    description = f"{series} 第 {cycle} 次定期保养（每 {months} 个月）"
    return await open_ticket(
        actor=None,
        order=order,
        kind=TicketKind.MAINTENANCE,
        source=TicketSource.SCHEDULE,
        description=description,
        note="\n".join([description, "请联系客户预约清洗保养", *(history or [])[-5:]]),
    )


async def overdue() -> list[tuple[Ticket, Order]]:
    """Tickets still open past their deadline whose alert has not gone out."""
    now = utcnow()
    tickets = await Ticket.filter(
        state__in=list(OPEN_TICKET_STATES), deadline__lt=now, overdue_alerted_at__isnull=True
    ).order_by("deadline")
    orders = {o.id: o for o in await Order.filter(id__in=list({t.order_id for t in tickets}))}
    return [(t, orders[t.order_id]) for t in tickets]


async def steps_for(actor: Staff, ticket: Ticket, order: Order) -> list[Step]:
    return await TICKET.available(actor, ticket, order)
