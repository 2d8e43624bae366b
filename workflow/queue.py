"""A member's queue (我的任务 / 我的待办): what is waiting on them, oldest first, each with its next step.

Nothing here is a second list of who does what: the queue is read from the order's lifecycle table. For
each order in the member's scope, the rows they may take now are what waits on them (the rows of 调整,
changing course, wait on no one); the row that moves the order or its job forward is the step shown,
on the page the table names for it. Managers' unhandled alerts (预警) wait on them too.

Only orders in a state some row of theirs starts from, and in a scope of theirs, are read.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from tortoise.expressions import Q, Subquery

from cards.leads import lead_path
from cards.views import QUEUE_LIMIT, QueueItem
from infra.timeutil import local_today
from models import (
    Alert,
    Approval,
    ApprovalState,
    Customer,
    DealerOrder,
    DealerPiece,
    Lead,
    Order,
    OrderPiece,
    OrderState,
    OrgUnit,
    Payment,
    Role,
    Staff,
    Task,
    TaskState,
    Ticket,
    TicketState,
)
from models.enums import LIVE_TASK_STATES, OPEN_TASK_STATES
from workflow.alerts import ALERT_ROLES, RULES_BY_KEY, rule_of
from workflow.dealer_lifecycle import DEALER_ORDER, DEALER_PIECE
from workflow.dealers import dealer_units_for
from workflow.errors import Conflict, NotAllowed
from workflow.lead_lifecycle import HELD, LEAD
from workflow.lead_views import lead_phone
from workflow.lifecycle import Facts, Scope, Transition, refusal_or_task
from workflow.order_lifecycle import ORDER
from workflow.owed import owing
from workflow.piece_lifecycle import PIECE
from workflow.privacy import phone_of
from workflow.selectors import TICKET_VISIT_STATES
from workflow.ticket_lifecycle import TICKET

LIMIT = QUEUE_LIMIT
QUEUE_PATH = "/h5/queue"  # 我的待办

# The one standing step: payments may be recorded on any confirmed order, but wait on sales only while
# something is still owed.
WHILE_OWED = ORDER["record_payment"]
# The price review may be asked in any open state, but waits only on the managers of the unit whose
# level is pending: its orders are read from the reviews waiting there, not from every open order.
REVIEW = (ORDER["approve"], ORDER["reject"])
# Finance's rows wait on a payment, not on the order's state: a payment 待确认 waits on 确认到账 (listed
# per payment below); an invoice is issued when asked for, so it never waits. Nor does the link to the
# customer's own page: it is sent when wanted.
PER_PAYMENT = ORDER["confirm_payment"]
ON_REQUEST = (
    ORDER["issue_invoice"],
    ORDER["share_customer_page"],
    ORDER["contact_customer"],  # 加客户微信: the salesperson shows it when with the customer; it never waits
)

# Production pieces are the piece table's: a released order waits on the factory while a piece is in a
# state a factory row starts from, and on goods-in only once a piece can arrive (shipped, or finished).
RECEIVE = ORDER["receive_item"]
ARRIVE = PIECE["arrive"]
PRODUCTION_PAGE = "/h5/production"

STATES = list(OrderState)
FORWARD_JOB = (TaskState.ACCEPTED, TaskState.DONE)


def waiting_rows(staff: Staff) -> list[Transition]:
    """The table's rows that can wait on this member: theirs by role, taken from a state, done by hand,
    and not a change of course (调整) or a correction."""
    return [
        t
        for t in ORDER
        if t.source
        and not t.automatic
        and not t.corrects
        and ORDER.has_role_for(t, staff)
        and not (t.page is not None and t.page.lists_actions)
        and t is not PER_PAYMENT
        and t not in ON_REQUEST
    ]


def _moves_on(t: Transition, state: OrderState) -> bool:
    """The row takes the order, or its field job, forward (a decline takes it back)."""
    if t.target is not None and t.target != OrderState.CANCELLED:
        return STATES.index(t.target) > STATES.index(state)
    return t.task is not None and t.task.target in FORWARD_JOB


def next_step(offered: list[Transition], state: OrderState) -> Transition:
    """The row that takes the order or its job forward; else the first one there, a standing one last."""
    ranked = sorted(offered, key=lambda t: (not _moves_on(t, state), t is WHILE_OWED))
    return ranked[0]


async def _candidates(staff: Staff, rows: list[Transition]) -> list[Order]:
    """The orders in a state some row starts from and in one of the member's scopes for it, oldest first:
    at most LIMIT * 2 waiting on a step, and the LIMIT oldest of those where money is still owed."""
    scopes = {r.scope for t in rows for r in t.who if r.role is not None and staff.has_role(r.role)}
    within = Q(id__in=[])
    if Scope.UNIT in scopes:
        unit = await OrgUnit.get(id=staff.org_unit_id)
        within |= Q(org_unit__path__startswith=unit.path)
    if Scope.OWN in scopes:
        within |= Q(sales_id=staff.id)
    if Scope.ASSIGNEE in scopes:
        held = Task.filter(assignee_id=staff.id, superseded=False, state__in=list(LIVE_TASK_STATES))
        within |= Q(id__in=Subquery(held.values("order_id")))
    states = list(dict.fromkeys(s for t in rows if t not in REVIEW for s in t.source))
    standing = [
        s for s in WHILE_OWED.source if s in states and not any(s in t.source for t in rows if t is not WHILE_OWED)
    ]
    moving = [s for s in states if s not in standing]
    orders = (
        await Order.filter(within, state__in=moving).order_by("state_since", "id").limit(LIMIT * 2) if moving else []
    )
    if standing:
        orders += await _owing(within, standing)
    if any(t in REVIEW for t in rows):
        reviewed = Approval.filter(unit_id=staff.org_unit_id, state=ApprovalState.PENDING, superseded=False)
        seen = {o.id for o in orders}
        more = await Order.filter(within, id__in=Subquery(reviewed.values("order_id"))).limit(LIMIT)
        orders += [o for o in more if o.id not in seen]
    orders.sort(key=_waiting_since)
    return orders


def _waiting_since(order: Order) -> tuple[datetime, int]:
    return order.state_since or order.created_at, order.id


async def _owing(within: Q, states: list[OrderState]) -> list[Order]:
    """The LIMIT oldest orders in these states with part of the contract amount not yet paid (standing
    payments: the total stored on the order, workflow.owed): one narrow read, a salesperson's years of paid
    orders skipped by the database."""
    agreed = owing(Order.filter(within, state__in=states, contract_amount__isnull=False))
    return await agreed.order_by("state_since", "id").limit(LIMIT)


async def _facts(staff: Staff, orders: list[Order]) -> list[Facts]:
    """What the rules are judged against, for all the orders at once: what Facts.of reads for one order,
    in three reads (the order's unit under the member's is workflow.scope.covers)."""
    mine = (await OrgUnit.get(id=staff.org_unit_id)).path
    paths = dict(await OrgUnit.filter(id__in={o.org_unit_id for o in orders}).values_list("id", "path"))
    tasks: dict[int, list[Task]] = {}
    for task in await Task.filter(order_id__in=[o.id for o in orders], superseded=False).order_by("-id"):
        tasks.setdefault(task.order_id, []).append(task)
    reviewed = [o.id for o in orders if o.approval_state == ApprovalState.PENDING]
    approvals = (
        {
            a.order_id: a
            for a in await Approval.filter(
                order_id__in=reviewed, state=ApprovalState.PENDING, superseded=False
            ).prefetch_related("unit")
        }
        if reviewed
        else {}
    )
    return [
        Facts(
            actor=staff,
            order=o,
            in_unit=str(paths[o.org_unit_id]).startswith(mine),
            own=o.sales_id == staff.id,
            tasks=tasks.get(o.id, []),
            approval=approvals.get(o.id),
        )
        for o in orders
    ]


def _offered(t: Transition, facts: Facts) -> bool:
    try:
        refusal_or_task(t, facts, None)
    except (NotAllowed, Conflict):
        return False
    return True


async def queue_for(staff: Staff) -> list[QueueItem]:
    """What waits on the member now, oldest first (at most LIMIT)."""
    rows = waiting_rows(staff)
    waiting: list[tuple[Facts, list[Transition]]] = []
    if rows:
        candidates = await _candidates(staff, rows)
        not_arriving = await _nothing_to_receive(candidates) if RECEIVE in rows else set()
        for facts in await _facts(staff, candidates):
            offered = [t for t in rows if _offered(t, facts) and not (t is RECEIVE and facts.order.id in not_arriving)]
            if offered:
                waiting.append((facts, offered))
    waiting = waiting[:LIMIT]
    customers = await _customers([f.order.customer_id for f, _ in waiting])
    items = [
        _order_item(facts, next_step(offered, facts.order.state), offered, customers[facts.order.customer_id])
        for facts, offered in waiting
    ]
    if any(staff.has_role(r) for r in ALERT_ROLES):
        items += await _alerts(staff)
    if ORDER.has_role_for(PER_PAYMENT, staff):
        items += await _payments_to_confirm(staff)
    items += await _pieces_to_move(staff)
    items += await _leads_waiting(staff)
    items += await _tickets_waiting(staff)
    items += await _dealer_orders_waiting(staff)
    items.sort(key=lambda i: i.since)
    return items[:LIMIT]


async def _customers(ids: list[int]) -> dict[int, Customer]:
    return {c.id: c for c in await Customer.filter(id__in=set(ids))}


def _order_item(facts: Facts, step: Transition, offered: list[Transition], customer: Customer) -> QueueItem:
    order = facts.order
    job = facts.current_task(step.task.kind) if step.task is not None else None
    if job is not None and step.task is not None and step.task.target == TaskState.ACCEPTED:
        # Accepting has no page of its own: 我的待办 takes it in one tap, as the task card does.
        return _item(order, customer, step=step.label, path=QUEUE_PATH, since=_waiting_since(order)[0], job=job)
    page = step.page or next((t.page for t in offered if t.page is not None), None)
    return _item(
        order,
        customer,
        step=page.label if page is not None and page is step.page else step.label,
        path=page.url(order.number) if page is not None else f"/h5/orders/{order.number}",
        since=_waiting_since(order)[0],
        job=job,
    )


def _item(
    order: Order, customer: Customer, *, step: str, path: str, since: datetime, job: Task | None = None
) -> QueueItem:
    return QueueItem(
        number=order.number,
        customer_name=customer.name,
        address=order.address,
        phone=phone_of(customer),
        state_label=order.state.label,
        step=step,
        path=path,
        since=since,
        # A visit still to make; a job done (waiting for the customer's signature) is no appointment.
        appointment=job.scheduled_date if job is not None and job.state in OPEN_TASK_STATES else None,
        job=job.kind.label if job is not None else "",
        accept_task=job.id if job is not None and path == QUEUE_PATH else None,
    )


async def _payments_to_confirm(staff: Staff) -> list[QueueItem]:
    """Payments 待确认 on orders in the member's part of the company, oldest first: one item each."""
    unit = await OrgUnit.get(id=staff.org_unit_id)
    payments = (
        await Payment.filter(
            confirmed_at__isnull=True,
            voided_at__isnull=True,
            order__org_unit__path__startswith=unit.path,
            order__state__in=list(PER_PAYMENT.source),
        )
        .order_by("created_at", "id")
        .limit(LIMIT)
        .prefetch_related("order")
    )
    customers = await _customers([p.order.customer_id for p in payments])
    page = PER_PAYMENT.page
    assert page is not None
    return [
        _item(
            p.order,
            customers[p.order.customer_id],
            step=PER_PAYMENT.label,
            path=page.url(p.order.number),
            since=p.created_at,
        )
        for p in payments
    ]


async def _nothing_to_receive(orders: list[Order]) -> set[int]:
    """Released orders none of whose pieces can arrive yet: goods-in does not wait on the warehouse."""
    released = [o.id for o in orders if o.production_order_number is not None]
    if not released:
        return set()
    arriving = await OrderPiece.filter(order_id__in=released, state__in=list(ARRIVE.source)).values_list(
        "order_id", flat=True
    )
    return set(released) - set(arriving)


async def _pieces_to_move(staff: Staff) -> list[QueueItem]:
    """Released orders with pieces a row of the member's (factory) moves next: one item per order, its
    steps and how many pieces each moves, since the oldest of them got where it is."""
    rows = [t for t in PIECE if not t.automatic and t is not ARRIVE and any(staff.has_role(r) for r in t.roles())]
    if not rows:
        return []
    unit = await OrgUnit.get(id=staff.org_unit_id)
    pieces = (
        await OrderPiece.filter(
            state__in=list(dict.fromkeys(s for t in rows for s in t.source)),
            production_number__isnull=False,
            order__state=OrderState.CONFIRMED,
            order__org_unit__path__startswith=unit.path,
        )
        .order_by("state_since", "id")
        .prefetch_related("order")
    )
    by_order: dict[int, list[OrderPiece]] = {}
    for piece in pieces:
        by_order.setdefault(piece.order_id, []).append(piece)
    items = []
    for waiting in list(by_order.values())[:LIMIT]:
        order, first = waiting[0].order, waiting[0]
        counts: dict[str, int] = {}
        for t in rows:  # in the table's order: 开始生产 2 件、完工 1 件
            if n := sum(1 for p in waiting if p.state in t.source):
                counts[t.label] = n
        items.append(
            QueueItem(
                # The factory makes the pieces; the customer's name, phone and address are not theirs to see.
                number=order.number,
                customer_name=order.production_order_number or "",
                address="",
                phone="",
                state_label=first.state.label,
                step="、".join(f"{label} {n} 件" for label, n in counts.items()),
                path=f"{PRODUCTION_PAGE}?order={order.number}",
                since=first.state_since or order.released_at or order.created_at,
            )
        )
    return items


async def _alerts(member: Staff) -> list[QueueItem]:
    """Unhandled alerts over the member's part of the company, of the rules that go to their roles."""
    unit = await OrgUnit.get(id=member.org_unit_id)
    others = [key for key, rule in RULES_BY_KEY.items() if not any(member.has_role(r) for r in rule.roles)]
    mine = Alert.filter(handled_at__isnull=True, order__org_unit__path__startswith=unit.path).exclude(rule__in=others)
    for key in others:  # a per-row rule's alerts are kept as "<rule>:<row>"
        mine = mine.exclude(rule__startswith=f"{key}:")
    alerts = await mine.order_by("created_at", "id").limit(LIMIT).prefetch_related("order")
    customers = await _customers([a.order.customer_id for a in alerts])
    items = []
    for alert in alerts:
        rule = rule_of(alert.rule)
        title = rule.title if rule is not None else alert.rule
        order = alert.order
        path = f"/h5/orders/{order.number}"
        items.append(
            _item(order, customers[order.customer_id], step=f"预警：{title}", path=path, since=alert.created_at)
        )
    return items


async def appointments_today(staff: Staff, day: date | None = None) -> list[QueueItem]:
    """The member's queue for one day's visits to customers (today's, by default): the morning card."""
    day = day or local_today()
    has_jobs = await Task.filter(
        assignee_id=staff.id, scheduled_date=day, state__in=list(OPEN_TASK_STATES), superseded=False
    ).exists()
    has_tickets = await Ticket.filter(assignee_id=staff.id, scheduled_date=day, state__in=TICKET_VISIT_STATES).exists()
    if not (has_jobs or has_tickets):
        return []
    return [i for i in await queue_for(staff) if i.appointment == day]


async def _leads_waiting(staff: Staff) -> list[QueueItem]:
    """Showroom bookings held by the member (a consultant) with a step of theirs onwards from where the
    lead is, by the lead table (workflow/lead_lifecycle.py): 领单, 到店, 已成交 ..."""
    if not staff.has_role(Role.CONSULTANT):
        return []
    held = await Lead.filter(consultant_id=staff.id, state__in=list(HELD)).order_by("state_since", "id").limit(LIMIT)
    items = []
    for lead in held:
        step = LEAD.next_step(lead, staff)
        if step is None:
            continue
        items.append(
            QueueItem(
                number=lead.number,
                customer_name=lead.name,
                address="",
                phone=lead_phone(lead),
                state_label=lead.state.label,
                step=step.label,
                path=lead_path(lead.number),
                since=lead.state_since or lead.created_at,
            )
        )
    return items


# Dealer orders wait on the dealer (a cart to submit, pieces arrived to receive) and on the dealer managers
# (an order to accept), by the dealer order's table (workflow/dealer_lifecycle.py).
DEALER_QUEUE_ROLES = (Role.DEALER, Role.DEALER_MANAGER)


async def _dealer_orders_waiting(staff: Staff) -> list[QueueItem]:
    """Each dealer order whose next step is the member's (提交订单, 接单), and each with pieces to 确认收货."""
    if not any(staff.has_role(r) for r in DEALER_QUEUE_ROLES):
        return []
    units = {u.id: u for u in await dealer_units_for(staff)}
    if not units:
        return []
    states = {s for t in DEALER_ORDER if not t.automatic and not t.corrects and t.target is not None for s in t.source}
    orders = (
        await DealerOrder.filter(dealer_id__in=list(units), state__in=list(states))
        .order_by("state_since", "id")
        .limit(LIMIT)
    )
    items = []
    for order in orders:
        step = DEALER_ORDER.next_step(order, staff)
        if step is not None and not step.corrects and await DEALER_ORDER.may(step, staff, order):
            items.append(_dealer_item(order, units[order.dealer_id].name, step.label, order.state_since))
    receive = DEALER_PIECE["receive"]
    pieces = await DealerPiece.filter(order__dealer_id__in=list(units), state__in=list(receive.source)).order_by(
        "state_since", "id"
    )
    by_order: dict[int, list[DealerPiece]] = {}
    for piece in pieces:
        by_order.setdefault(piece.order_id, []).append(piece)
    for order in await DealerOrder.filter(id__in=list(by_order)).order_by("id"):
        waiting = by_order[order.id]
        if await DEALER_PIECE.may(receive, staff, waiting[0], order):
            label = f"{receive.label} {len(waiting)} 件"
            items.append(_dealer_item(order, units[order.dealer_id].name, label, waiting[0].state_since))
    return items


def _dealer_item(order: DealerOrder, dealer: str, step: str, since: datetime | None) -> QueueItem:
    return QueueItem(
        number=order.number,
        customer_name=dealer,
        address="",
        phone="",
        state_label=order.state.label,
        step=step,
        path=f"/h5/dealer/orders/{order.number}",
        since=since or order.created_at,
    )


# Service tickets wait on after-sales to book them and on the installer holding them; the managers, who may
# do what after-sales may, hear of a ticket only when it is late (the alert).
TICKET_QUEUE_ROLES = (Role.AFTER_SALES, Role.INSTALLER)


async def _tickets_waiting(staff: Staff) -> list[QueueItem]:
    """Each ticket whose next step (by the ticket table) is the member's, on the ticket's page."""
    if not any(staff.has_role(r) for r in TICKET_QUEUE_ROLES):
        return []
    within = Q(assignee_id=staff.id, state__in=[TicketState.DISPATCHED, TicketState.ACCEPTED])
    if staff.has_role(Role.AFTER_SALES):
        unit = await OrgUnit.get(id=staff.org_unit_id)
        within |= Q(order__org_unit__path__startswith=unit.path, state=TicketState.OPEN)
    tickets = await Ticket.filter(within).order_by("state_since", "id").limit(LIMIT).prefetch_related("order")
    customers = await _customers([t.order.customer_id for t in tickets])
    items = []
    for ticket in tickets:
        step = TICKET.next_step(ticket, staff)
        if step is None or not await TICKET.may(step, staff, ticket, ticket.order):
            continue
        order = ticket.order
        item = _item(
            order,
            customers[order.customer_id],
            step=f"{ticket.kind.label}工单{step.label}",
            path=f"/h5/orders/{order.number}/tickets/{ticket.id}",
            since=ticket.state_since or ticket.created_at,
        )
        items.append(dataclasses.replace(item, appointment=ticket.scheduled_date, job=ticket.kind.label))
    return items
