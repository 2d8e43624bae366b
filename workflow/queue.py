"""A member's queue (我的任务 / 我的待办): what is waiting on them, oldest first, each with its next step.

Nothing here is a second list of who does what: the queue is read from the order's lifecycle table. For
each order in the member's scope, the rows they may take now are what waits on them (the rows of 调整,
changing course, wait on no one); the row that moves the order or its job forward is the step shown,
on the page the table names for it. Managers' unhandled alerts (预警) wait on them too.

Only orders in a state some row of theirs starts from, and in a scope of theirs, are read.
"""

from __future__ import annotations

from datetime import date, datetime

from tortoise.expressions import Q, Subquery
from tortoise.functions import Sum

from cards.views import QueueItem
from infra.runtime import runtime
from infra.timeutil import local_today
from models import Alert, Customer, Order, OrderState, OrgUnit, Payment, Role, Staff, Task, TaskState
from models.enums import LIVE_TASK_STATES, OPEN_TASK_STATES
from workflow.alerts import RULES_BY_KEY
from workflow.errors import Conflict, NotAllowed
from workflow.lifecycle import Facts, Scope, Transition, refusal_or_task
from workflow.order_lifecycle import ORDER

# How many orders a queue shows at most (the oldest): a card and a phone screen hold no more.
LIMIT = 50

# The one standing step: payments may be recorded on any confirmed order, but wait on sales only while
# something is still owed.
WHILE_OWED = ORDER["record_payment"]

STATES = list(OrderState)
FORWARD_JOB = (TaskState.ACCEPTED, TaskState.DONE)


def waiting_rows(staff: Staff) -> list[Transition]:
    """The table's rows that can wait on this member: theirs by role, taken from a state, done by hand,
    and not a change of course (调整)."""
    return [
        t
        for t in ORDER
        if t.source
        and not t.automatic
        and ORDER.has_role_for(t, staff)
        and not (t.page is not None and t.page.lists_actions)
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
    """The orders in a state some row starts from and in one of the member's scopes for it, oldest first."""
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
    states = list(dict.fromkeys(s for t in rows for s in t.source))
    standing = set(WHILE_OWED.source) - {s for t in rows if t is not WHILE_OWED for s in t.source}
    orders = await Order.filter(within, state__in=states).order_by("state_since", "id").limit(LIMIT * 4)
    owing = await _owing([o for o in orders if o.state in standing])
    return [o for o in orders if o.state not in standing or o.id in owing]


async def _owing(orders: list[Order]) -> set[int]:
    """Of these orders, those with part of the contract amount not yet paid."""
    if not orders:
        return set()
    paid = {
        int(row["order_id"]): row["paid"]
        for row in await Payment.filter(order_id__in=[o.id for o in orders])
        .annotate(paid=Sum("amount"))
        .group_by("order_id")
        .values("order_id", "paid")
    }
    return {o.id for o in orders if o.contract_amount is not None and paid.get(o.id, 0) < o.contract_amount}


def _offered(t: Transition, facts: Facts) -> bool:
    try:
        refusal_or_task(t, facts, None)
    except (NotAllowed, Conflict):
        return False
    return True


async def queue_for(staff: Staff) -> list[QueueItem]:
    """What waits on the member now, oldest first."""
    rows = waiting_rows(staff)
    items: list[QueueItem] = []
    if rows:
        for order in await _candidates(staff, rows):
            facts = await Facts.of(staff, order)
            offered = [t for t in rows if _offered(t, facts)]
            if offered:
                items.append(await _order_item(order, next_step(offered, order.state), offered, facts))
            if len(items) >= LIMIT:
                break
    if staff.has_role(Role.MANAGER):
        items += await _alerts(staff)
    items.sort(key=lambda i: i.since)
    return items[:LIMIT]


async def _order_item(order: Order, step: Transition, offered: list[Transition], facts: Facts) -> QueueItem:
    page = step.page or next((t.page for t in offered if t.page is not None), None)
    job = facts.current_task(step.task.kind) if step.task is not None else None
    return await _item(
        order,
        step=page.label if page is not None and page is step.page else step.label,
        path=page.url(order.number) if page is not None else f"/h5/orders/{order.number}",
        since=order.state_since or order.created_at,
        job=job,
    )


async def _item(order: Order, *, step: str, path: str, since: datetime, job: Task | None = None) -> QueueItem:
    customer = await Customer.get(id=order.customer_id)
    return QueueItem(
        number=order.number,
        customer_name=customer.name,
        address=order.address,
        phone=runtime().vault.decrypt(customer.phone_encrypted),
        state_label=order.state.label,
        step=step,
        path=path,
        since=since,
        appointment=job.scheduled_date if job is not None else None,
        job=job.kind.label if job is not None else "",
    )


async def _alerts(manager: Staff) -> list[QueueItem]:
    unit = await OrgUnit.get(id=manager.org_unit_id)
    alerts = (
        await Alert.filter(handled_at__isnull=True, order__org_unit__path__startswith=unit.path)
        .order_by("created_at", "id")
        .limit(LIMIT)
        .prefetch_related("order")
    )
    items = []
    for alert in alerts:
        rule = RULES_BY_KEY.get(alert.rule)
        title = rule.title if rule is not None else alert.rule
        path = f"/h5/orders/{alert.order.number}"
        items.append(await _item(alert.order, step=f"预警：{title}", path=path, since=alert.created_at))
    return items


async def appointments_today(staff: Staff, day: date | None = None) -> list[QueueItem]:
    """The member's queue for one day's visits to customers (today's, by default): the morning card."""
    day = day or local_today()
    has_jobs = await Task.filter(
        assignee_id=staff.id, scheduled_date=day, state__in=list(OPEN_TASK_STATES), superseded=False
    ).exists()
    if not has_jobs:
        return []
    return [i for i in await queue_for(staff) if i.appointment == day]
