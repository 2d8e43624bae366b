"""A service ticket's lifecycle (售后工单: 维修 / 投诉 / 保养), declared once.

Read a row as: *name* (the button's label) may be done by *who* when the ticket is in *source*; it takes
the ticket to *target* and writes the order's timeline event. Who may open a ticket is the order table's
row `open_ticket` (the order's salesperson, sales, after-sales and managers of the order's unit, and the
customer through the order's link); after-sales of the order's unit book it (派单) as they book installs,
and the managers of the unit may do what after-sales may. The installer holding the ticket accepts or
declines it, sends photos before and after, and marks it done; the customer confirms on the ticket's page
(a tap, or a signature). A complaint settled by phone is closed without a visit (办结).
"""

from __future__ import annotations

from typing import Any

from models import EventKind, Role, Staff, Ticket, TicketKind, TicketState
from workflow import timeline
from workflow.errors import NotAllowed
from workflow.lifecycle import Rule, Scope
from workflow.machine import Actor, Machine, Step
from workflow.order_lifecycle import ORDER
from workflow.scope import covers

T = TicketState
E = EventKind


def ticket_name(ticket: Ticket) -> str:
    return f"{TicketKind(ticket.kind).label}工单 {ticket.number}"


class TicketLifecycle(Machine[Ticket]):
    """Tickets are judged by their order (passed as the context): its unit, its salesperson; and by the
    installer holding the ticket."""

    model = Ticket
    states = TicketState
    assignee_field = "assignee_id"
    source_file = "workflow/ticket_lifecycle.py"
    intro = (
        "A repair, complaint or maintenance visit on an installed order, each with a deadline by kind "
        "(`[tickets]`); opened by the customer on their page, by staff (chat `报修 <订单号>` or the order "
        "page), by a low visit score, or by the maintenance cycle."
    )
    entry = "open"

    def name_of(self, entity: Ticket) -> str:
        return ticket_name(entity)

    async def holds(self, rule: Rule, actor: Actor | None, entity: Ticket, context: Any) -> bool:
        if not isinstance(actor, Staff):
            return False
        if rule.scope == Scope.ASSIGNEE:
            return entity.assignee_id == actor.id
        if rule.scope == Scope.OWN:
            return context.sales_id == actor.id
        return rule.scope == Scope.UNIT and await covers(actor, context)

    def scope_refusal(self, t: Step, actor: Actor | None, entity: Ticket, context: Any) -> NotAllowed:
        if actor is None:
            return NotAllowed("这个操作需要员工身份")
        held = self.roles_held(actor)
        scopes = {r.scope for r in t.who if r.role in held}
        if scopes and scopes <= {Scope.ASSIGNEE}:
            return NotAllowed(f"{ticket_name(entity)} 不是派给你的工单")
        return NotAllowed(f"{ticket_name(entity)} 不在你负责的范围内")


AFTER_SALES = (Rule(Role.AFTER_SALES, Scope.UNIT), Rule(Role.MANAGER, Scope.UNIT))
INSTALLER = (Rule(Role.INSTALLER, Scope.ASSIGNEE),)
CUSTOMER = (Rule(None, Scope.LINK),)
WORKING = (T.DISPATCHED, T.ACCEPTED)

TICKET = TicketLifecycle(
    "ticket",
    [
        # Opened from the order: who may is the order table's row (open_ticket); a low score and the
        # maintenance cycle open one by themselves.
        Step("open", "报修", ORDER["open_ticket"].who, (), T.OPEN, E.TICKET_OPENED, automatic=True),
        Step("dispatch", "派单", AFTER_SALES, (T.OPEN,), T.DISPATCHED, E.TICKET_DISPATCHED),
        Step("accept", "接单", INSTALLER, (T.DISPATCHED,), T.ACCEPTED, E.TICKET_ACCEPTED),
        Step("decline", "拒单", INSTALLER, (T.DISPATCHED,), T.OPEN, E.TICKET_DECLINED),
        Step("add_photo", "维修照片", INSTALLER, (T.ACCEPTED,), None, E.TICKET_PHOTO_ADDED),
        Step("finish", "完成", INSTALLER, (T.ACCEPTED,), T.DONE, E.TICKET_DONE),
        Step("confirm", "确认完成", CUSTOMER, (T.DONE,), T.CONFIRMED, E.TICKET_CONFIRMED),
        # Changing course: a new date, another installer (who must accept again), settled without a
        # visit (a complaint resolved by phone, or done and the customer never confirms), or cancelled.
        Step("reschedule", "改期", AFTER_SALES, WORKING, None, E.TICKET_RESCHEDULED, corrects=True),
        Step("reassign", "改派", AFTER_SALES, WORKING, T.DISPATCHED, E.TICKET_REASSIGNED, corrects=True),
        Step("close", "办结", AFTER_SALES, (T.OPEN, T.DONE), T.CLOSED, E.TICKET_CLOSED, corrects=True),
        Step("cancel", "取消工单", AFTER_SALES, (T.OPEN, *WORKING), T.CANCELLED, E.TICKET_CANCELLED, corrects=True),
        # The installer left the company (the WeCom directory says so): back to after-sales to dispatch.
        Step("return", "离职退回", AFTER_SALES, WORKING, T.OPEN, E.TICKET_RETURNED, automatic=True),
    ],
)


async def apply_ticket(
    t: Step, *, actor: Staff | None, ticket: Ticket, order: Any, event: dict[str, Any] | None = None, **values: Any
) -> None:
    """Move the ticket inside the caller's transaction (of two people at once exactly one wins) and
    write the order's timeline."""
    await TICKET.move(t, ticket, **values)
    if t.event is not None:
        payload = {"number": ticket.number, "kind": TicketKind(ticket.kind).label, **(event or {})}
        await timeline.record(order, actor, EventKind(t.event), **payload)
