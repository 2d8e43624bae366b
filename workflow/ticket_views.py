"""How a service ticket reads on a card: the plain view cards/tickets.py draws."""

from __future__ import annotations

from cards.tickets import TicketView
from infra.timeutil import fmt_time
from models import Order, Staff, Ticket, TicketKind, TicketSource, TicketState
from workflow.selectors import order_view


async def ticket_view(ticket: Ticket, order: Order | None = None) -> TicketView:
    order = order or await Order.get(id=ticket.order_id)
    assignee = await Staff.get_or_none(id=ticket.assignee_id) if ticket.assignee_id else None
    return TicketView(
        id=ticket.id,
        number=ticket.number,
        kind_label=TicketKind(ticket.kind).label,
        source_label=TicketSource(ticket.source).label,
        state_label=TicketState(ticket.state).label,
        description=ticket.description,
        deadline=fmt_time(ticket.deadline),
        order=await order_view(order),
        scheduled_date=ticket.scheduled_date,
        assignee_name=assignee.name if assignee else "",
    )
