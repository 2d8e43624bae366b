"""The one door for what Relay tells people: every card and text the bot sends, and every card it
updates, is built and queued here, inside the caller's transaction (the outbox delivers it after
commit, once). Other modules say what happened; this module knows who hears of it and how.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.outbox import enqueue_card_update, enqueue_message
from cards.approval import ReviewFigures, approval_card, approval_result_card
from cards.common import text_message
from cards.contact import milestone_card
from cards.customer import reschedule_request_card
from cards.dealers import (
    dealer_links_card,
    dealer_notice_card,
    dealer_order_card,
    dealer_released_card,
)
from cards.finance import payment_card
from cards.install import install_workbench_card
from cards.keys import CardKind, CardRef
from cards.leads import lead_card
from cards.lifecycle import (
    design_done_card,
    install_done_card,
    signed_card,
    signing_card,
    to_warehouse_card,
    visit_task_card,
)
from cards.manager import (
    AlertLine,
    accept_escalation_card,
    accept_nudge_card,
    alert_card,
    alert_digest,
    appointment_reminder_card,
)
from cards.measure import measure_done_card, measure_workbench_card
from cards.news import NewsView, news_card
from cards.production import released_card
from cards.stock import LevelLine, below_safety_card, below_safety_digest
from cards.tasks import booked_card, dispatch_card, notice_card, task_card
from cards.tickets import (
    ticket_bench_card,
    ticket_done_card,
    ticket_form_card,
    ticket_notice_card,
    ticket_open_card,
    ticket_task_card,
)
from infra.delivery import Priority
from infra.runtime import runtime
from models import (
    Alert,
    Approval,
    ApprovalState,
    CustomerRequest,
    DealerOrder,
    Lead,
    LeadEventKind,
    Order,
    OutboxKind,
    OutboxMessage,
    Payment,
    Role,
    Staff,
    Task,
    TaskState,
    Ticket,
)
from models.flows import MEASURE, TaskFlow
from workflow.customer_link import customer_page_url
from workflow.customer_reach import (
    NO_CONTACT,
    Milestone,
    budget_text,
    message_text,
    month_of,
    refusal,
    slots_used,
    sms_configured,
)
from workflow.dealer_lifecycle import DEALER_ORDER, NEEDS_INPUT
from workflow.dealer_views import dealer_order_view
from workflow.lead_views import lead_view
from workflow.scope import staff_covering
from workflow.selectors import order_view, task_view
from workflow.ticket_views import ticket_view

Message = dict[str, Any]


async def send(message: Message) -> None:
    await enqueue_message(message)


async def reply(userid: str, text: str) -> None:
    await enqueue_message(text_message(userid, text))


async def update_tapped(userid: str, response_code: str, label: str) -> None:
    """Replace the buttons of the card a member just tapped (the tap's one-use response code)."""
    await enqueue_card_update(userids=[userid], response_code=response_code, replace_name=label)


async def update_everywhere(ref: CardRef, label: str, *, skip: str = "") -> None:
    """Replace the buttons on every copy of every card sent about this thing (but `skip`'s). A card
    already updated this way is left as it is: the send's response code is good for one use (60140)."""
    sent = await OutboxMessage.filter(kind=OutboxKind.SEND, card_task_id__startswith=ref.prefix).values_list(
        "card_task_id", "payload"
    )
    updated = set(
        await OutboxMessage.filter(kind=OutboxKind.UPDATE_CARD, card_task_id__startswith=ref.prefix).values_list(
            "card_task_id", flat=True
        )
    )
    for task_id, payload in sent:
        if task_id in updated:
            continue
        userids = [u for u in str(payload.get("touser", "")).split("|") if u and u != skip]
        if userids:
            await enqueue_card_update(userids=userids, card_task_id=task_id, replace_name=label)


async def _sales(order: Order) -> Staff:
    return await Staff.get(id=order.sales_id)


# Field jobs (测量, 安装)


async def order_ready(
    flow: TaskFlow,
    order: Order,
    dispatchers: list[Staff],
    *,
    suggestion: tuple[int, str, date] | None,
    reason: str = "",
    note: str = "",
) -> None:
    card = dispatch_card(
        [d.userid for d in dispatchers],
        flow,
        await order_view(order),
        suggestion=suggestion,
        links=runtime().links,
        reason=reason,
        note=note,
    )
    await enqueue_message(card)


async def dispatched(flow: TaskFlow, order: Order, task: Task, *, worker: Staff, by: Staff, day: date) -> None:
    """The worker gets the job, sales hears it is booked, every dispatcher's card says who took it."""
    await job_assigned(flow, task, worker)
    view = await order_view(order)
    sales = await _sales(order)
    await enqueue_message(
        booked_card(sales.userid, flow, view, worker_name=worker.name, day=day, links=runtime().links)
    )
    await update_everywhere(CardRef(CardKind.ready(flow.kind), order.id), f"已派给{worker.name}（{by.name}）")
    await customer_milestone(order, "measure_booked" if flow is MEASURE else "install_booked")


async def job_assigned(flow: TaskFlow, task: Task, worker: Staff, *, title: str = "") -> None:
    await enqueue_message(task_card(worker.userid, flow, await task_view(task), links=runtime().links, title=title))


async def job_accepted(flow: TaskFlow, task: Task, worker: Staff) -> None:
    """The worker's bench: where their photos go, and done."""
    view = await task_view(task)
    bench = measure_workbench_card if flow is MEASURE else install_workbench_card
    await enqueue_message(bench(worker.userid, view, links=runtime().links))


async def _notice(to: list[str], order: Order, *, title: str, text: str, kind: CardKind) -> None:
    if to:
        await enqueue_message(
            notice_card(to, await order_view(order), title=title, text=text, links=runtime().links, kind=kind)
        )


async def job_rescheduled(flow: TaskFlow, task: Task, order: Order, *, old: date, day: date, reason: str) -> None:
    assignee = await Staff.get(id=task.assignee_id)
    text = f"{flow.kind.label}日期由 {old:%m月%d日} 改为 {day:%m月%d日}" + (f"：{reason}" if reason else "")
    sales = await _sales(order)
    await _notice(
        [assignee.userid, sales.userid], order, title=f"{flow.kind.label}改期", text=text, kind=CardKind.RESCHEDULED
    )
    await customer_milestone(order, "measure_changed" if flow is MEASURE else "install_booked")


async def job_handed_over(
    flow: TaskFlow, task: Task, order: Order, *, by: Staff, previous: Staff, to: Staff, transferred: bool, reason: str
) -> None:
    """The new assignee gets the job; the one it was taken from, and its dispatcher, are told."""
    await job_assigned(flow, task, to, title=f"{flow.task_title}（{previous.name}转来）" if transferred else "")
    verb = "转交给" if transferred else "改派给"
    text = f"{previous.name} 的{flow.kind.label}任务已{verb} {to.name}" + (f"：{reason}" if reason else "")
    told = [previous.userid] if by.id != previous.id else []
    if task.assigned_by_id and task.assigned_by_id != by.id:
        told.append((await Staff.get(id=task.assigned_by_id)).userid)
    kind = CardKind.TRANSFERRED if transferred else CardKind.REASSIGNED
    await _notice(told, order, title=f"{flow.kind.label}任务{verb[:2]}", text=text, kind=kind)


# The order's milestones


async def measured(order: Order, designers: list[Staff], *, photos: int, drawings: int) -> None:
    view, links = await order_view(order), runtime().links
    if designers:
        card = measure_done_card(
            [d.userid for d in designers], view, photos=photos, drawings=drawings, links=links, for_designer=True
        )
        await enqueue_message(card)
    sales = await _sales(order)
    await enqueue_message(
        measure_done_card([sales.userid], view, photos=photos, drawings=drawings, links=links, for_designer=False)
    )


async def designed(order: Order, sales: list[Staff], *, files: int) -> None:
    view = await order_view(order)
    for member in sales:
        await enqueue_message(design_done_card(member.userid, view, files=files, links=runtime().links))
    await customer_milestone(order, "designed")


async def confirmed(order: Order, warehouse: list[Staff]) -> None:
    if warehouse:
        card = to_warehouse_card([w.userid for w in warehouse], await order_view(order), links=runtime().links)
        await enqueue_message(card)


async def released(order: Order, factory: list[Staff], *, pieces: list[str], expected: date | None) -> None:
    """A new production order for the factory members over the order."""
    if factory:
        card = released_card(
            [f.userid for f in factory],
            order_id=order.id,
            production_order_number=order.production_order_number or "",
            order_number=order.number,
            pieces=pieces,
            expected=expected,
            links=runtime().links,
        )
        await enqueue_message(card)


async def arrived(order: Order) -> None:
    sales = await _sales(order)
    await _notice([sales.userid], order, title="已到货", text="货已到齐，等待安装派单", kind=CardKind.ARRIVED)
    await customer_milestone(order, "arrived")


async def installed(order: Order, installer: Staff, *, photos: int, sign_url: str) -> None:
    """Sales and the managers over the order hear of it; the installer and sales get the signing link."""
    view, links = await order_view(order), runtime().links
    sales = await _sales(order)
    managers = [m.userid for m in await staff_covering(order, Role.MANAGER)]
    await enqueue_message(install_done_card([sales.userid, *managers], view, photos=photos, links=links))
    installer_page = links.oauth(f"/h5/orders/{order.number}/sign")
    for member in (installer, sales):
        await enqueue_message(signing_card(member.userid, view, installer_page=installer_page, sign_url=sign_url))
    await customer_milestone(order, "installed")


async def visit_assigned(caller: Staff, order: Order, *, installer: Staff) -> None:
    card = visit_task_card(caller.userid, await order_view(order), installer=installer.name, links=runtime().links)
    await enqueue_message(card)


async def signed(order: Order) -> None:
    sales = await _sales(order)
    await enqueue_message(signed_card(sales.userid, await order_view(order), links=runtime().links))
    await update_everywhere(CardRef(CardKind.SIGN_LINK, order.id), "客户已签字")


async def cancelled(order: Order, *, by: Staff, reason: str, told: list[str]) -> None:
    """Everyone on it is told, and every card that still offers a step on the order is closed in place."""
    await _notice(told, order, title="订单已取消", text=f"{by.name}：{reason}", kind=CardKind.CANCELLED)
    closed = "订单已取消"
    for kind in (CardKind.READY_MEASURE, CardKind.READY_INSTALL, CardKind.SIGN_LINK):
        await update_everywhere(CardRef(kind, order.id), closed)
    for approval_id in await Approval.filter(order_id=order.id, state=ApprovalState.PENDING).values_list(
        "id", flat=True
    ):
        await update_everywhere(CardRef(CardKind.APPROVAL, approval_id), closed)
    for task in await Task.filter(order_id=order.id):
        for kind in (CardKind.MEASURE_TASK, CardKind.INSTALL_TASK, CardKind.MEASURE_BENCH, CardKind.INSTALL_BENCH):
            await update_everywhere(CardRef(kind, task.id), closed)


async def cancel_undone(order: Order, *, by: Staff, told: list[str]) -> None:
    """Those told of the cancel hear the order is back (a restored job's assignee gets its card again)."""
    text = f"{by.name} 撤销了取消，订单恢复为{order.state.label}"
    await _notice(told, order, title="订单已恢复", text=text, kind=CardKind.RESTORED)


async def job_restored(flow: TaskFlow, task: Task, worker: Staff) -> None:
    """A job an undone cancel reopened: the card its state calls for, sent again."""
    if task.state == TaskState.ACCEPTED:
        await job_accepted(flow, task, worker)
    else:
        await job_assigned(flow, task, worker, title=f"{flow.task_title}（订单已恢复）")


async def payment_corrected(order: Order, *, by: Staff, text: str) -> None:
    """Sales and the managers over the order hear that the money recorded changed."""
    sales = await _sales(order)
    managers = [m.userid for m in await staff_covering(order, Role.MANAGER)]
    to = [u for u in dict.fromkeys([sales.userid, *managers]) if u != by.userid]
    await _notice(to, order, title="收款已更正", text=f"{by.name}：{text}", kind=CardKind.CORRECTED)


async def payment_recorded(order: Order, payment: Payment, finance: list[Staff], *, outstanding: object) -> None:
    """Finance of the order's unit gets a card to confirm the money arrived (确认到账)."""
    if not finance:
        return
    recorder = await Staff.get_or_none(id=payment.recorded_by_id) if payment.recorded_by_id else None
    card = payment_card(
        [f.userid for f in finance],
        await order_view(order),
        payment_id=payment.id,
        amount=payment.amount,
        kind=payment.kind.label,
        method=payment.method.label,
        recorded_by=recorder.name if recorder else "",
        outstanding=outstanding,  # type: ignore[arg-type]
        links=runtime().links,
    )
    await enqueue_message(card)


async def payment_confirmed(order: Order, payment: Payment, *, by: Staff) -> None:
    """Every finance member's card about it says who confirmed it."""
    await update_everywhere(CardRef(CardKind.PAYMENT, payment.id), f"已由{by.name}确认到账")


async def payment_voided(payment: Payment) -> None:
    """A payment voided before finance confirmed it: its cards no longer offer 确认到账."""
    await update_everywhere(CardRef(CardKind.PAYMENT, payment.id), "收款已作废")


async def upload_removed(order: Order, *, by: Staff, told: list[int | None], text: str) -> None:
    """The uploader and sales hear that a file is gone from the order's files."""
    members = await Staff.filter(id__in=[i for i in told if i is not None and i != by.id], active=True)
    to = [m.userid for m in members]
    await _notice(to, order, title="文件已删除", text=f"{by.name}：{text}", kind=CardKind.CORRECTED)


async def customer_edited(order: Order, *, by: Staff, text: str) -> None:
    """Sales and whoever holds an open job on the order (they go to that address) hear of it."""
    tasks = await Task.filter(order_id=order.id, state__in=[TaskState.ASSIGNED, TaskState.ACCEPTED])
    ids = [order.sales_id, *(t.assignee_id for t in tasks if t.assignee_id)]
    members = await Staff.filter(id__in=[i for i in ids if i != by.id], active=True)
    await _notice(
        [m.userid for m in members], order, title="客户信息已修改", text=f"{by.name}：{text}", kind=CardKind.CORRECTED
    )


async def remeasure(order: Order, designers: list[Staff], *, by: Staff, reason: str) -> None:
    to = [d.userid for d in designers if d.id != by.id]
    await _notice(to, order, title="重新测量", text=f"{by.name}：{reason}", kind=CardKind.REMEASURE)


# The price review (审核)


async def approval_requested(
    order: Order, approval_id: int, approvers: list[Staff], figures: ReviewFigures, *, review_path: str
) -> None:
    """The managers of the level now waiting get the figures with 同意 / 驳回 (驳回 opens review_path)."""
    if approvers:
        card = approval_card(
            [m.userid for m in approvers],
            await order_view(order),
            approval_id=approval_id,
            figures=figures,
            review_path=review_path,
            links=runtime().links,
        )
        await enqueue_message(card)


async def approval_decided(approval_id: int, *, by: Staff, label: str) -> None:
    """Every other copy of the level's card says who decided (the decider's own tap updates theirs)."""
    await update_everywhere(CardRef(CardKind.APPROVAL, approval_id), label, skip=by.userid)


async def approval_withdrawn(approval_id: int) -> None:
    """The prices changed while the level waited: its cards no longer ask anything."""
    await update_everywhere(CardRef(CardKind.APPROVAL, approval_id), "价格已修改，已重新提交")


async def prices_approved(order: Order, *, by: Staff) -> None:
    sales = await _sales(order)
    card = approval_result_card(
        sales.userid,
        await order_view(order),
        title="价格审核通过",
        text=f"{by.name} 审核通过，订单可以投产",
        edit_path=None,
        links=runtime().links,
    )
    await enqueue_message(card)


async def prices_rejected(order: Order, *, by: Staff, reason: str, edit_path: str) -> None:
    """Sales hears why, with the way to the prices: changing them submits them again."""
    sales = await _sales(order)
    card = approval_result_card(
        sales.userid,
        await order_view(order),
        title="价格被驳回",
        text=f"{by.name}：{reason}\n修改价格后将重新提交审核",
        edit_path=edit_path,
        links=runtime().links,
    )
    await enqueue_message(card)


# Alerts (预警) and reminders


async def alert_raised(alert: Alert, order: Order, managers: list[str], *, title: str, detail: str, todo: str) -> None:
    if managers:
        card = alert_card(
            managers,
            await order_view(order),
            alert_id=alert.id,
            title=title,
            detail=detail,
            todo=todo,
            links=runtime().links,
        )
        await enqueue_message(card)


# A manager who would get this many alert cards from one scan gets one digest naming them all instead.
DIGEST_FROM = 6


@dataclass(frozen=True)
class RaisedAlert:
    alert: Alert
    order: Order
    managers: list[str]
    title: str
    detail: str
    todo: str


async def alerts_raised(raised: list[RaisedAlert]) -> None:
    """A scan's new alerts: each one's card to its managers, but a manager who would get many cards at
    once (WeCom drops what a member gets beyond 30 a minute) gets a digest that names them all."""
    counts = Counter(m for r in raised for m in r.managers)
    digested = {m for m, n in counts.items() if n >= DIGEST_FROM}
    for r in raised:
        to = [m for m in r.managers if m not in digested]
        await alert_raised(r.alert, r.order, to, title=r.title, detail=r.detail, todo=r.todo)
    for manager in sorted(digested):
        lines = [AlertLine(r.order.number, r.title) for r in raised if manager in r.managers]
        for message in alert_digest(manager, lines, url=runtime().links.oauth("/h5/orders")):
            await enqueue_message(message)


async def alert_handled(alert: Alert, by: Staff) -> None:
    """Every other manager's copy says who handled it (the handler's own tap updates theirs)."""
    await update_everywhere(CardRef(CardKind.ALERT, alert.id), f"已由{by.name}处理", skip=by.userid)


async def appointment_tomorrow(task: Task) -> None:
    assignee = await Staff.get(id=task.assignee_id)
    await enqueue_message(appointment_reminder_card(assignee.userid, await task_view(task), links=runtime().links))


async def not_accepted_yet(task: Task, *, hours: float) -> None:
    assignee = await Staff.get(id=task.assignee_id)
    card = accept_nudge_card(assignee.userid, await task_view(task), hours=hours, links=runtime().links)
    await enqueue_message(card)


async def still_not_accepted(task: Task, dispatcher: Staff, *, hours: float) -> None:
    assignee = await Staff.get(id=task.assignee_id)
    card = accept_escalation_card(
        dispatcher.userid, await task_view(task), worker=assignee.name, hours=hours, links=runtime().links
    )
    await enqueue_message(card)


# The customer's own page (workflow/customer_requests.py)


async def reschedule_requested(request: CustomerRequest, order: Order, dispatchers: list[Staff]) -> None:
    """The dispatchers over the order hear that the customer wants another day for the visit."""
    if not dispatchers:
        return
    wanted = f"{request.wanted_date.isoformat()} {request.wanted_part.label}"
    card = reschedule_request_card(
        [d.userid for d in dispatchers],
        await order_view(order),
        request_id=request.id,
        kind=request.kind,
        booked=request.booked_date,
        wanted=wanted,
        note=request.note,
        changes_path=f"/h5/orders/{order.number}/changes",
        links=runtime().links,
    )
    await enqueue_message(card)


async def reschedule_request_settled(request: CustomerRequest, label: str, *, skip: str = "") -> None:
    """Every dispatcher's copy of the request's card says it is settled (the tapper's own is done already)."""
    await update_everywhere(CardRef(CardKind.CUSTOMER_REQUEST, request.id), label, skip=skip)


# Showroom bookings (预约)

LEAD_CARD_TITLES = {
    LeadEventKind.ASSIGNED: "新预约待领单",
    LeadEventKind.TRANSFERRED: "同事转给你的预约",
    LeadEventKind.REASSIGNED: "预约已改派给你",
    LeadEventKind.PAUSED: "预约已暂停，待再次领单",
    LeadEventKind.CLAIMED: "正在服务",
}


async def lead_assigned(
    lead: Lead, consultant: Staff, *, buttons: list[tuple[str, str]], by: Staff | None, how: LeadEventKind
) -> None:
    """The consultant gets the lead's card with the steps the lead table lets them take now; a lead
    taken from someone else (改派, 转给) updates their card."""
    note = f"{by.name}：{LEAD_CARD_TITLES[how]}" if by is not None and by.id != consultant.id else ""
    await send(
        lead_card(
            consultant.userid,
            await lead_view(lead),
            title=LEAD_CARD_TITLES[how],
            buttons=buttons,
            links=runtime().links,
            note=note,
        )
    )


async def lead_moved(lead: Lead, consultant: Staff, *, title: str, buttons: list[tuple[str, str]]) -> None:
    """The consultant's next card for a lead they hold (claimed: 到店 and the outcomes)."""
    await send(lead_card(consultant.userid, await lead_view(lead), title=title, buttons=buttons, links=runtime().links))


async def lead_taken_away(lead: Lead, former: Staff, *, by: Staff, label: str) -> None:
    """The consultant who held the lead hears it left them (改派 by reception or a manager)."""
    await update_everywhere(CardRef(CardKind.LEAD, lead.id), label)
    if former.id != by.id:
        await reply(former.userid, f"预约 {lead.number}（{lead.name}）已由{by.name}{label}")


async def lead_closed(lead: Lead, label: str) -> None:
    """The lead reached its outcome elsewhere (the order form): its cards say so, without buttons."""
    await update_everywhere(CardRef(CardKind.LEAD, lead.id), label)


# Reaching the customer (客户联系): what the salesperson hears, and each milestone's message for the customer


async def contact_way_ready(order: Order, member: Staff) -> None:
    url = runtime().links.oauth(f"/h5/orders/{order.number}/contact")
    await enqueue_message(
        text_message(member.userid, f"订单 {order.number} 的加客户微信二维码已生成，请客户扫码添加你：{url}")
    )


async def contact_way_failed(order: Order, member: Staff, *, error: str) -> None:
    await enqueue_message(
        text_message(
            member.userid,
            f"订单 {order.number} 的加客户微信二维码没有生成：{error[:80]}。请联系管理员检查客户联系权限。",
        )
    )


async def customer_added(order: Order, member: Staff, *, welcome_queued: bool) -> None:
    tail = "已自动发送欢迎语和订单链接。" if welcome_queued else "你们此前联系过，没有自动欢迎语。"
    await enqueue_message(
        text_message(member.userid, f"客户已通过订单 {order.number} 的二维码添加你的企业微信，{tail}")
    )


async def welcome_failed(order: Order, member: Staff, *, error: str, link: str) -> None:
    await enqueue_message(
        text_message(
            member.userid, f"订单 {order.number} 的欢迎语没有发出（{error[:60]}），请在聊天中把订单链接发给客户：{link}"
        )
    )


async def mass_send_result(order: Order, sender: Staff, *, ok: bool, why: str) -> None:
    text = (
        f"订单 {order.number} 的客户消息已生成群发任务：请在企业微信“客户联系 > 群发助手”中确认发送。"
        if ok
        else f"订单 {order.number} 的客户消息没有发出：{why}"
    )
    await enqueue_message(text_message(sender.userid, text))


async def customer_milestone(order: Order, milestone: str) -> None:
    """The salesperson's card for a milestone: the prepared message for the customer and 发给客户 (a
    mass-send task), or why it cannot go that way now (workflow/customer_reach.py)."""
    step = Milestone(milestone)
    sales = await _sales(order)
    customer = await order.customer
    why = await refusal(order, step, sales)
    if why == NO_CONTACT and not sms_configured():
        # Nothing to send the customer by: the milestone's own notice is enough (a second card at every
        # milestone of every order would only crowd the salesperson's chat). 加客户微信 is on the order page.
        return
    text = await message_text(order, step, customer_page_url(order))
    links = runtime().links
    card = milestone_card(
        sales.userid,
        order_id=order.id,
        order_number=order.number,
        customer=customer.name,
        milestone=step.value,
        title=f"通知客户：{step.label}",
        text=text,
        can_send=why is None,
        why_not=why or "",
        no_contact=why == NO_CONTACT,
        budget=budget_text(await slots_used(order.customer_id, month_of())),
        contact_url=links.oauth(f"/h5/orders/{order.number}/contact"),
        order_url=links.oauth(f"/h5/orders/{order.number}"),
        sms=sms_configured(),
    )
    await enqueue_message(card)


# Service tickets (售后工单)


async def ticket_opened(
    ticket: Ticket,
    to: list[Staff],
    *,
    suggestion: tuple[int, str, date] | None,
    title: str = "",
    note: str = "",
) -> None:
    """After-sales of the order's unit: a ticket to book, with the suggested installer one tap away."""
    if to:
        card = ticket_open_card(
            [s.userid for s in to],
            await ticket_view(ticket),
            suggestion=suggestion,
            links=runtime().links,
            title=title,
            note=note,
        )
        await enqueue_message(card)


async def ticket_assigned(ticket: Ticket, worker: Staff, *, by: Staff) -> None:
    await enqueue_message(ticket_task_card(worker.userid, await ticket_view(ticket), links=runtime().links))
    await update_everywhere(CardRef(CardKind.TICKET, ticket.id), f"已派给{worker.name}（{by.name}）")


async def ticket_accepted(ticket: Ticket, worker: Staff) -> None:
    after = runtime().config.tickets.after_photos
    card = ticket_bench_card(worker.userid, await ticket_view(ticket), links=runtime().links, after_photos=after)
    await enqueue_message(card)


async def ticket_done(ticket: Ticket, to: list[str], *, confirm_url: str) -> None:
    if to:
        card = ticket_done_card(
            list(dict.fromkeys(to)), await ticket_view(ticket), confirm_url=confirm_url, links=runtime().links
        )
        await enqueue_message(card)


async def ticket_notice(ticket: Ticket, to: list[str], *, title: str, text: str) -> None:
    if to:
        card = ticket_notice_card(
            list(dict.fromkeys(to)), await ticket_view(ticket), title=title, text=text, links=runtime().links
        )
        await enqueue_message(card)


async def ticket_form(userid: str, order: Order) -> None:
    url = runtime().links.oauth(f"/h5/orders/{order.number}/tickets/new")
    await enqueue_message(ticket_form_card(userid, await order_view(order), url=url))


# News (公告)

# One card carries a news item to this many members (touser "a|b|c"; WeCom takes up to 1000). The pacer
# reserves a slot for every recipient of a send at once, so a member at WeCom's limit holds back the whole
# card until they have room: a few hundred a card keeps that wait to a small part of the audience, and 5000
# members are still 25 sends, not 5000 outbox rows.
NEWS_RECIPIENTS_PER_CARD = 200


async def news_posted(news: NewsView, userids: list[str]) -> dict[str, str]:
    """The news card to its audience, as a push (members' answers go before it); answers which card
    (task_id) carries it to each member, so its delivery can be read off the outbox."""
    carried: dict[str, str] = {}
    for start in range(0, len(userids), NEWS_RECIPIENTS_PER_CARD):
        chunk = userids[start : start + NEWS_RECIPIENTS_PER_CARD]
        card = news_card(chunk, news, links=runtime().links)
        await enqueue_message(card, priority=Priority.PUSH)
        carried.update(dict.fromkeys(chunk, card["template_card"]["task_id"]))
    return carried


async def news_withdrawn(news_id: int) -> None:
    await update_everywhere(CardRef(CardKind.NEWS, news_id), "已撤回")


# Dealer orders (经销商订货)


async def dealer_order_submitted(order: DealerOrder, managers: list[Staff], *, dealer: str, by: Staff) -> None:
    """The dealer managers covering the dealer: the order to accept (one tap) or return (its page)."""
    if managers:
        offered = await DEALER_ORDER.available(managers[0], order)
        steps = [(t.name, t.label) for t in offered if t.name not in NEEDS_INPUT]
        card = dealer_order_card(
            [m.userid for m in managers], await dealer_order_view(order), steps=steps, links=runtime().links
        )
        await enqueue_message(card)


async def dealer_order_closed(order: DealerOrder, label: str, *, skip: str = "") -> None:
    """The managers' cards about the order say what became of it (accepted, returned, taken back, cancelled)."""
    await update_everywhere(CardRef(CardKind.DEALER_ORDER, order.id), label, skip=skip)


async def dealer_order_decided(order: DealerOrder, to: list[Staff], *, title: str, text: str) -> None:
    if to:
        card = dealer_notice_card(
            [s.userid for s in to], await dealer_order_view(order), title=title, text=text, links=runtime().links
        )
        await enqueue_message(card)


async def dealer_order_released(order: DealerOrder, factory: list[Staff], *, pieces: int) -> None:
    if factory:
        card = dealer_released_card(
            [s.userid for s in factory], await dealer_order_view(order), pieces=pieces, links=runtime().links
        )
        await enqueue_message(card)


async def dealer_links(staff: Staff, *, manager: bool, owed: str) -> None:
    await enqueue_message(dealer_links_card(staff.userid, staff.id, links=runtime().links, manager=manager, owed=owed))


# Stock (库存)


async def stock_below_safety(crossed: list[tuple[LevelLine, list[str]]]) -> None:
    """Levels that just fell below their safety level, each with the purchasing members told: a card each,
    but a member told of many at once (one order, one stock-take) gets one digest naming them all."""
    counts = Counter(m for _, members in crossed for m in members)
    digested = {m for m, n in counts.items() if n >= DIGEST_FROM}
    links = runtime().links
    for line, members in crossed:
        if to := [m for m in members if m not in digested]:
            url = links.oauth(f"/h5/stock/products/{line.product_id}")
            await enqueue_message(below_safety_card(to, line, url=url))
    for member in sorted(digested):
        lines = [line for line, members in crossed if member in members]
        for message in below_safety_digest(member, lines, url=links.oauth("/h5/stock", below=1)):
            await enqueue_message(message)
