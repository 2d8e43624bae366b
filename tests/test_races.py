"""A member acting on a row someone changed between their check and their move: the move is a conditional
update on the row as the check saw it (its state and whom it is assigned to), so it changes nothing and
the member is told why.

Each test takes the member's copy where their action would read it, lets the other person's action
happen in full through the workflow, then makes the member's move with that copy: the interleaving of
two taps at once, made certain.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from tortoise.transactions import in_transaction

from infra.timeutil import local_today
from models import (
    DealerOrder,
    DealerOrderLine,
    Lead,
    LeadState,
    Order,
    OrderState,
    Role,
    Staff,
    Task,
    TaskKind,
    TaskState,
    Ticket,
    TicketKind,
    TicketSource,
    TicketState,
)
from tests.support import World
from tests.test_dealers import HENGMEI, XU, dealer_prices, product_id
from tests.test_leads import RECEPTION, STORE, book
from tests.test_permissions import at_state, member, new_order
from workflow import dealers
from workflow.admin import ensure_unit
from workflow.errors import Conflict
from workflow.lead_lifecycle import LEAD
from workflow.leads import take
from workflow.lifecycle import apply
from workflow.order_lifecycle import ORDER, job
from workflow.tasks import dispatch_task, reassign_task
from workflow.ticket_lifecycle import TICKET
from workflow.tickets import dispatch_ticket, open_ticket, reassign_ticket

DISPATCHER, FIRST, SECOND = "zhaopaidan", "sunceliang", "wuceliang"


async def test_a_job_given_to_another_worker_is_not_accepted_by_the_first(world: World) -> None:
    order = await new_order("RACE-JOB")
    dispatcher, first, second = [await world.staff(u) for u in (DISPATCHER, FIRST, SECOND)]
    day = local_today() + timedelta(days=1)
    task = await dispatch_task(actor=dispatcher, order=order, kind=TaskKind.MEASURE, worker_id=first.id, day=day)
    accept = job(TaskKind.MEASURE, "accept")
    await ORDER.check(accept, first, order, task=task)  # 孙师傅's 接单, checked on the job as his
    await reassign_task(actor=dispatcher, task_id=task.id, worker_id=second.id, reason="就近")
    with pytest.raises(Conflict, match="这个任务刚刚已改派"):
        async with in_transaction():
            await apply(accept, actor=first, order=order, task=task)
    job_now = await Task.get(id=task.id)
    assert (job_now.assignee_id, job_now.state) == (second.id, TaskState.ASSIGNED)
    # The new assignee's 接单 is his to make.
    await apply(accept, actor=second, order=order, task=job_now)
    assert (await Task.get(id=task.id)).state == TaskState.ACCEPTED


async def test_a_ticket_given_to_another_installer_is_not_answered_by_the_first(world: World) -> None:
    order = await at_state("RACE-TICKET", OrderState.INSTALLED)
    after_sales = await Staff.get(userid="weishouhou")
    ticket = await open_ticket(
        actor=after_sales, order=order, kind=TicketKind.REPAIR, source=TicketSource.CHAT, description="漏水"
    )
    first, second = await Staff.get(userid="chenanzhuang"), await Staff.get(userid=SECOND)
    await dispatch_ticket(actor=after_sales, ticket_id=ticket.id, worker_id=first.id, day=local_today())
    held = await Ticket.get(id=ticket.id)  # 陈师傅's 拒单, checked on the ticket as his
    await TICKET.check(TICKET["decline"], first, held, order)
    await reassign_ticket(actor=after_sales, ticket_id=ticket.id, worker_id=second.id, reason="就近")
    with pytest.raises(Conflict, match="刚刚已改派"):
        async with in_transaction():
            await TICKET.move(TICKET["decline"], held, assignee_id=None)
    now = await Ticket.get(id=ticket.id)
    assert (now.assignee_id, now.state) == (second.id, TicketState.DISPATCHED)


async def test_a_lead_given_to_another_consultant_is_not_voided_by_the_first(world: World) -> None:
    store = await ensure_unit(STORE)
    lead = await book(store, "抢单客户", "13900000077")
    assert lead.state == LeadState.ASSIGNED and lead.consultant_id is not None
    held_by = await Staff.get(id=lead.consultant_id)
    other = await member("race_b", Role.CONSULTANT, STORE)
    copy = await Lead.get(id=lead.id)  # the holder's 作废, checked on the lead as theirs
    await LEAD.check(LEAD["void"], held_by, copy)
    await take(await Staff.get(userid=RECEPTION), lead, "reassign", to=other)
    with pytest.raises(Conflict, match="刚刚已改派"):
        async with in_transaction():
            await LEAD.move(LEAD["void"], copy)
    now = await Lead.get(id=lead.id)
    assert (now.consultant_id, now.state) == (other.id, LeadState.ASSIGNED)


async def test_a_cancel_judged_before_a_dispatch_changes_nothing(world: World) -> None:
    """The manager's 取消 was checked on a new order; the dispatcher booked the measurement meanwhile:
    the cancel would have recorded 待派测量 as where an undo puts it back, and left the new job open."""
    order = await new_order("RACE-CANCEL")
    manager, dispatcher, first = [await world.staff(u) for u in ("chendianzhang", DISPATCHER, FIRST)]
    copy = await Order.get(id=order.id)
    await ORDER.check(ORDER["cancel"], manager, copy)
    day = local_today() + timedelta(days=1)
    task = await dispatch_task(actor=dispatcher, order=order, kind=TaskKind.MEASURE, worker_id=first.id, day=day)
    with pytest.raises(Conflict, match="当前状态：已预约测量"):
        async with in_transaction():
            await apply(
                ORDER["cancel"], actor=manager, order=copy, cancel_reason="客户不要了", cancelled_from=copy.state
            )
    now = await Order.get(id=order.id)
    assert (now.state, now.cancelled_from) == (OrderState.MEASURE_SCHEDULED, None)
    assert (await Task.get(id=task.id)).state == TaskState.ASSIGNED


async def test_a_line_added_to_a_draft_sent_meanwhile_is_refused(world: World) -> None:
    """A dealer's 加入订货单 on the draft their page showed; a colleague sent it meanwhile."""
    await dealer_prices()
    me, colleague = await Staff.get(userid=HENGMEI), await Staff.get(userid=XU)
    draft = await dealers.add_to_cart(actor=me, product_id=await product_id("K5"), quantity=1)
    shown = await DealerOrder.get(id=draft.id)  # the page's copy
    await dealers.submit(actor=colleague, order=draft)
    with pytest.raises(Conflict, match="不能"):
        await dealers.add_to_cart(actor=me, product_id=await product_id("S1"), quantity=2, order=shown)
    lines = await DealerOrderLine.filter(order_id=draft.id)
    assert [(line.quantity, line.amount) for line in lines] == [(1, Decimal("3980.00"))]
