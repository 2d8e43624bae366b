"""The demo's service tickets (售后工单), on the installed order LS20261107: one the customer has just
reported on their page (waiting for 卫客服 to book it), and a complaint given to 陈师傅 three days ago and
never accepted, now past its deadline (the managers' alert); and its first maintenance, come round."""

from __future__ import annotations

from datetime import timedelta

from infra.runtime import runtime
from infra.timeutil import local_today, utcnow
from models import Job, MessageState, Order, Staff, Ticket, TicketKind, TicketSource
from workflow.aftersales import MAINTENANCE
from workflow.customer_link import customer_token
from workflow.reminders import maintenance_reminder
from workflow.tickets import dispatch_ticket, open_ticket, report_problem


async def seed_tickets(photo: bytes) -> None:
    order = await Order.get_or_none(number="LS20261107")
    if order is None or await Ticket.filter(order_id=order.id).exists():
        return
    after_sales = await Staff.get(userid="weishouhou")
    installer = await Staff.get(userid="chenanzhuang")
    # Overdue: a complaint opened three days ago, booked with 陈师傅, who has not accepted it.
    complaint = await open_ticket(
        actor=after_sales,
        order=order,
        kind=TicketKind.COMPLAINT,
        source=TicketSource.CHAT,
        description="客户来电：安装师傅走后地面有胶渍没有清理",
    )
    await dispatch_ticket(actor=after_sales, ticket_id=complaint.id, worker_id=installer.id, day=local_today())
    earlier = utcnow() - timedelta(days=3)
    await Ticket.filter(id=complaint.id).update(
        created_at=earlier,
        state_since=earlier,
        deadline=earlier + timedelta(days=runtime().config.tickets.complaint_days),
    )
    # Open: the customer reported a problem on their page just now, with a photo.
    stored = await runtime().files.put_image(photo)
    await report_problem(
        token=customer_token(order), what="repair", description="淋浴房移门关不严，底部有点渗水", photos=[stored]
    )
    # Half a year on: the first maintenance of LS20261107's shower has come round. Its 保养 ticket waits for
    # 卫客服 to book, and the second cycle is scheduled from it (as the worker does when the job is due).
    first = (
        await Job.filter(kind=MAINTENANCE, key__startswith=f"{MAINTENANCE}:{order.id}:", state=MessageState.PENDING)
        .order_by("id")
        .first()
    )
    if first is not None:
        await Job.filter(id=first.id).update(due_at=utcnow(), state=MessageState.DONE, done_at=utcnow())
        await maintenance_reminder(first.payload)
