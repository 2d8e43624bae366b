"""How a lifecycle is declared and enforced: a table of transitions, read by one checker.

Each row says who may do it (a role within a scope), from which states, to which state, which
field job it moves and which timeline event it writes. `check` refuses with the one message for
each reason, `available` lists what a member may do now (the buttons pages and cards offer), and
`apply` makes the move: a conditional update, so of two people acting at once exactly one wins.
The order's own table is in workflow/order_lifecycle.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from infra.timeutil import utcnow
from models import Approval, ApprovalState, EventKind, Order, OrderState, Role, Staff, Task, TaskKind, TaskState
from models.enums import LIVE_TASK_STATES
from workflow import timeline, webhooks
from workflow.errors import Conflict, NotAllowed
from workflow.scope import covers, staff_covering


class Scope(StrEnum):
    UNIT = "unit"  # the order belongs to the member's part of the company
    OWN = "own"  # the member sold the order
    ASSIGNEE = "assignee"  # the member holds the order's live field job of the row's kind
    LINK = "link"  # the customer, through the order's signed link: no member at all

    @property
    def label(self) -> str:
        return {
            "unit": "本区域",
            "own": "本人的订单",
            "assignee": "任务执行人",
            "link": "客户链接",
        }[self.value]


@dataclass(frozen=True)
class Rule:
    role: Role | None  # None: the customer (Scope.LINK)
    scope: Scope


@dataclass(frozen=True)
class TaskMove:
    """The field job a transition acts on: its kind, the states it must be in, the state it goes to
    (None: it stays), or `create`: the transition makes a new one."""

    kind: TaskKind
    source: tuple[TaskState, ...] = ()
    target: TaskState | None = None
    create: bool = False


@dataclass(frozen=True)
class Page:
    """An H5 page that offers one or more transitions: its button label and path under the order."""

    label: str
    path: str  # appended to /h5/orders/{number}
    # A page of several different actions (调整) names on its button the ones the member may take, and
    # comes last.
    lists_actions: bool = False

    def url(self, number: str) -> str:
        return f"/h5/orders/{number}{self.path}"


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    who: tuple[Rule, ...]
    source: tuple[OrderState, ...]  # empty: the order is being created
    target: OrderState | None = None  # None: the order stays where it is
    task: TaskMove | None = None
    event: EventKind | None = None
    page: Page | None = None  # where a member does it on H5 (None: a card button or the chat)
    stamp: str | None = None  # the stage time set on arrival (managers' numbers are made of these)
    clears: tuple[str, ...] = ()  # stage times that no longer hold after it
    automatic: bool = False  # follows from another step; never offered as a button
    # Returns the order to the state it was cancelled from (order.cancelled_from) instead of a target.
    restores: bool = False
    # Puts a slip right (undo a cancel, void a payment, correct the customer): offered where it
    # applies, but never work waiting on anyone (a queue of what is waiting leaves it out).
    corrects: bool = False
    # A condition beyond role, scope and state (a time limit, the price review), judged on the facts
    # read once: the refusal's text, or None when it holds. `guard_label` names it in docs/lifecycle.md.
    guard: Callable[[Facts], str | None] | None = None
    guard_label: str = ""

    def roles(self) -> list[Role]:
        return [r.role for r in self.who if r.role is not None]


@dataclass
class Facts:
    """What the rules of one member and one order are evaluated against: read once."""

    actor: Staff | None
    order: Order
    in_unit: bool
    own: bool
    tasks: list[Task] = field(default_factory=list)  # the order's current field jobs (not superseded)
    approval: Approval | None = None  # the level of the price review waiting now (workflow/approval.py)

    @classmethod
    async def of(cls, actor: Staff | None, order: Order) -> Facts:
        await order.refresh_from_db()  # the caller's copy may be older than the row: judge the row
        tasks = await Task.filter(order_id=order.id, superseded=False).order_by("-id")
        approval = await waiting_approval(order)
        if actor is None:
            return cls(actor=None, order=order, in_unit=False, own=False, tasks=tasks, approval=approval)
        return cls(
            actor=actor,
            order=order,
            in_unit=await covers(actor, order),
            own=order.sales_id == actor.id,
            tasks=tasks,
            approval=approval,
        )

    def current_task(self, kind: TaskKind) -> Task | None:
        """The order's live job of this kind: the newest not declined, cancelled or superseded."""
        for task in self.tasks:
            if task.kind == kind and task.state in LIVE_TASK_STATES:
                return task
        return None

    def holds(self, rule: Rule, t: Transition) -> bool:
        if rule.scope == Scope.LINK:
            return self.actor is None
        if self.actor is None or rule.role is None or not self.actor.has_role(rule.role):
            return False
        if rule.scope == Scope.UNIT:
            return self.in_unit
        if rule.scope == Scope.OWN:
            return self.own
        assert t.task is not None, f"{t.name}: an assignee rule needs a field job"
        task = self.current_task(t.task.kind)
        return task is not None and task.assignee_id == self.actor.id


async def waiting_approval(order: Order) -> Approval | None:
    """The level of the order's price review waiting for a decision (read only while one may be)."""
    if order.approval_state != ApprovalState.PENDING:
        return None
    waiting = Approval.filter(order_id=order.id, state=ApprovalState.PENDING, superseded=False)
    return await waiting.prefetch_related("unit").first()


class Lifecycle:
    def __init__(self, name: str, transitions: Iterable[Transition]) -> None:
        self.name = name
        self.transitions = {t.name: t for t in transitions}

    def __getitem__(self, name: str) -> Transition:
        return self.transitions[name]

    def __iter__(self) -> Iterator[Transition]:
        return iter(self.transitions.values())

    async def check(self, t: Transition, actor: Staff | None, order: Order, *, task: Task | None = None) -> Task | None:
        """Refuse unless the member may do it now; the field job it acts on, if any.

        Refusals come in one order and with one text each: the role, then the scope, then the state.
        """
        if actor is not None:
            self.check_role(t, actor)  # the role needs no reading of the order
        facts = await Facts.of(actor, order)
        return refusal_or_task(t, facts, task)

    def roles_of(self, *names: str) -> tuple[Role, ...]:
        """The roles any of these transitions needs: a chat router for them is for these members."""
        return tuple(dict.fromkeys(r for name in names for r in self[name].roles()))

    def has_role_for(self, t: Transition, actor: Staff) -> bool:
        """Whether the member holds a role the row names (for a row that creates, all it takes)."""
        return any(actor.has_role(r) for r in t.roles())

    def check_role(self, t: Transition, actor: Staff) -> None:
        """Refuse a member without a role the row names: checked first, and all a row that creates the
        entity (no state yet) can check."""
        roles = t.roles()
        if roles and not any(actor.has_role(r) for r in roles):
            raise NotAllowed(_only(roles))

    async def may(self, t: Transition, actor: Staff | None, order: Order) -> bool:
        try:
            await self.check(t, actor, order)
        except (NotAllowed, Conflict):
            return False
        return True

    async def available(self, actor: Staff, order: Order) -> list[Transition]:
        """What the member may do now, in table order: the only source of buttons on pages and cards."""
        facts = await Facts.of(actor, order)
        offered = []
        for t in self:
            if t.automatic or not t.source or not self.has_role_for(t, actor):
                continue
            try:
                refusal_or_task(t, facts, None)
            except (NotAllowed, Conflict):
                continue
            offered.append(t)
        return offered


def refusal_or_task(t: Transition, facts: Facts, task: Task | None) -> Task | None:
    """The scope and the state, the role being checked already: the job acted on, or why not."""
    order, actor = facts.order, facts.actor
    if task is not None and actor is not None and task.assignee_id != actor.id and _only_assignee(t, actor):
        raise NotAllowed("这不是你的任务")
    if not any(facts.holds(rule, t) for rule in t.who):
        raise _scope_refusal(t, facts)
    if t.source and order.state not in t.source:
        raise Conflict(f"订单 {order.number} 当前状态：{order.state.label}", order.state.label)
    if t.guard is not None and (refused := t.guard(facts)):
        raise Conflict(refused)
    if t.task is None or t.task.create:
        return None
    task = task or facts.current_task(t.task.kind)
    if task is None:
        raise Conflict(f"订单 {order.number} 没有进行中的{t.task.kind.label}任务")
    if task.state not in t.task.source:
        raise Conflict(f"这个任务{task.state.label}", f"任务{task.state.label}")
    return task


def _only(roles: list[Role]) -> str:
    return "只有" + "或".join(dict.fromkeys(r.person for r in roles)) + "可以这样操作"


def _only_assignee(t: Transition, actor: Staff | None) -> bool:
    """True when every rule the member's roles match is an assignee rule: the job must be theirs."""
    matching = [r for r in t.who if r.role is not None and actor is not None and actor.has_role(r.role)]
    return bool(matching) and all(r.scope == Scope.ASSIGNEE for r in matching)


def _scope_refusal(t: Transition, facts: Facts) -> NotAllowed:
    number = facts.order.number
    actor = facts.actor
    if actor is None:
        return NotAllowed("这个操作需要员工身份")
    scopes = {r.scope for r in t.who if r.role is not None and actor.has_role(r.role)}
    if scopes <= {Scope.OWN}:
        return NotAllowed(f"订单 {number} 不是你的订单")
    if scopes <= {Scope.ASSIGNEE} and t.task is not None:
        return NotAllowed(f"你没有订单 {number} 的{t.task.kind.label}任务")
    return NotAllowed(f"订单 {number} 不在你负责的范围内")


async def apply(
    t: Transition,
    *,
    actor: Staff | None,
    order: Order,
    task: Task | None = None,
    task_values: dict[str, Any] | None = None,
    event: dict[str, Any] | None = None,
    **values: Any,
) -> None:
    """Make the move inside the caller's transaction: the order's state (if it changes), the field
    job's state, the timeline event, and the webhook event when the state changed. Conflict when someone
    else moved first (nothing is written)."""
    before = order.state if t.source else None  # None: the row that creates the order
    if t.target is not None and t.source:
        await _move_order(t, order, **values)
    elif t.restores:
        await _restore_order(t, order, **values)
    elif values:
        await Order.filter(id=order.id).update(**values)
        await order.refresh_from_db()
    if task is not None and t.task is not None and not t.task.create:
        changes: dict[str, Any] = dict(task_values or {})
        if t.task.target is not None:
            changes["state"] = t.task.target
        if t.task.target == TaskState.DONE:
            changes["done_at"] = utcnow()
        if changes:
            # Keyed on the job as the check saw it: its state and its assignee (a job handed to someone
            # else meanwhile keeps its state, and is no longer this member's to accept or pass on).
            assigned = task.assignee_id
            moved = await Task.filter(id=task.id, state__in=list(t.task.source), assignee_id=assigned).update(**changes)
            if not moved:
                await task.refresh_from_db()
                if task.assignee_id != assigned:
                    raise Conflict("这个任务刚刚已改派", "已改派")
                raise Conflict(f"这个任务{task.state.label}", f"任务{task.state.label}")
            await task.refresh_from_db()
    if t.event is not None:
        await timeline.record(order, actor, t.event, **(event or {}))
    if order.state != before:
        await webhooks.emit(
            webhooks.ORDER_STATE_CHANGED,
            {
                "order_number": order.number,
                "from": before.value if before is not None else None,
                "to": order.state.value,
                "transition": t.name,
                "actor": actor.userid if actor is not None else None,
            },
        )


async def _move_order(t: Transition, order: Order, **values: Any) -> None:
    assert t.target is not None
    now = utcnow()
    changes: dict[str, Any] = {"state": t.target, "state_since": now, **values}
    if t.stamp:
        changes[t.stamp] = now
    for cleared in t.clears:
        changes[cleared] = None
    # Keyed on the state the check saw, not any state of the row's source: a cancel judged on a confirmed
    # order that reached 已到货 meanwhile must not record 已确认 as where an undo puts it back.
    seen = order.state if order.state in t.source else None
    moved = await Order.filter(id=order.id, state__in=[seen] if seen else list(t.source)).update(**changes)
    await order.refresh_from_db()
    if not moved:
        raise Conflict(f"订单 {order.number} 当前状态：{order.state.label}", order.state.label)


async def _restore_order(t: Transition, order: Order, **values: Any) -> None:
    back = order.cancelled_from
    if back is None:
        raise Conflict(f"订单 {order.number} 没有可恢复的状态")
    changes: dict[str, Any] = {"state": back, "state_since": utcnow(), **values}
    moved = await Order.filter(id=order.id, state__in=list(t.source), cancelled_from=back).update(**changes)
    await order.refresh_from_db()
    if not moved:
        raise Conflict(f"订单 {order.number} 当前状态：{order.state.label}", order.state.label)


async def members_for(t: Transition, order: Order) -> list[Staff]:
    """The active members whose rules let them do this to the order (its state aside): whom a card
    offering it goes to."""
    members: dict[int, Staff] = {}
    for rule in t.who:
        if rule.role is None:
            continue
        if rule.scope == Scope.UNIT:
            found = await staff_covering(order, rule.role)
        elif rule.scope == Scope.OWN:
            found = await Staff.filter(id=order.sales_id, active=True)
        else:
            assert t.task is not None
            facts = await Facts.of(None, order)
            task = facts.current_task(t.task.kind)
            found = await Staff.filter(id=task.assignee_id, active=True) if task and task.assignee_id else []
        for member in found:
            if member.has_role(rule.role):
                members.setdefault(member.id, member)
    return list(members.values())
