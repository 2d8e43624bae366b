"""The lifecycles beside the order's (a production piece, a lead, a service ticket): each a table of
steps over rows with a `state` and a `state_since` column, read by one checker.

A step says who may take it (a role within a scope, as in the order's table), from which states, to
which state (or none: the row stays where it is), and which event it writes. `check` refuses with one
text per reason (the role, then the scope, then the state), `available` lists the steps a member may
take now (the only source of the buttons for that kind of row), and `move` makes the step a
conditional update, so of two people acting at once exactly one wins. What "in the member's scope"
means depends on the row (a piece is judged by its order's unit, a lead by its store and the
consultant holding it): each lifecycle says it in `holds`. The order's own table, with its field jobs
and stage times, is workflow/lifecycle.py.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar, cast

from tortoise.models import Model

from infra.timeutil import utcnow
from models import Role, ServiceToken, Staff
from workflow import webhooks
from workflow.errors import Conflict, NotAllowed
from workflow.lifecycle import Rule, Scope

Actor = Staff | ServiceToken


E = TypeVar("E", bound=Model)  # a row with `state` and `state_since` columns


def state_of(entity: Model) -> Any:
    return cast(Any, entity).state


@dataclass(frozen=True)
class Step:
    name: str
    label: str  # the button
    who: tuple[Rule, ...]
    source: tuple[StrEnum, ...]
    target: StrEnum | None = None  # None: the row stays where it is (a note, a reassignment)
    event: StrEnum | None = None
    automatic: bool = False  # follows from another step; never offered as a button
    # Puts a slip right or is a side action: offered where it applies, never work waiting on anyone.
    corrects: bool = False
    # A condition beyond role, scope and state, judged on the row: the refusal's text, or None when it holds.
    guard: Callable[[Any], str | None] | None = None
    guard_label: str = ""

    def roles(self) -> list[Role]:
        return [r.role for r in self.who if r.role is not None]


def only(roles: Iterable[Role]) -> str:
    return "只有" + "或".join(dict.fromkeys(r.person for r in roles)) + "可以这样操作"


class Machine(ABC, Generic[E]):
    """A lifecycle table and its checker. Subclasses say how a rule's scope holds for their rows
    (`holds`), how a row is named in a refusal (`name_of`) and anything that stops every step (`blocked`)."""

    model: type[Model]
    states: type[StrEnum]
    source_file: str = ""  # where the table is declared (for docs/lifecycle.md)
    intro: str = ""  # a sentence or two for docs/lifecycle.md
    entry: str = ""  # the step that creates the row, as the diagram's first arrow
    # The webhook event a step that changes a row's state emits (workflow/webhooks.py), None: none.
    event_type: str | None = None
    # The column naming the member a row is assigned to (its ASSIGNEE rules), None: rows have none.
    assignee_field: str | None = None

    def __init__(self, name: str, steps: Iterable[Step]) -> None:
        self.name = name
        self.steps = {t.name: t for t in steps}

    # The table

    def __getitem__(self, name: str) -> Step:
        return self.steps[name]

    def __contains__(self, name: object) -> bool:
        return name in self.steps

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps.values())

    def roles_of(self, *names: str) -> tuple[Role, ...]:
        """The roles any of these steps needs: a chat router for them is for these members."""
        return tuple(dict.fromkeys(r for name in names for r in self[name].roles()))

    def step_to(self, target: StrEnum, roles: Iterable[Role] = ()) -> Step | None:
        """The row that brings a row to this state (for one of these roles, if named)."""
        wanted = set(roles)
        for t in self:
            if t.target == target and not t.automatic and (not wanted or wanted & set(t.roles())):
                return t
        return None

    # What each lifecycle says about its rows

    @abstractmethod
    def name_of(self, entity: E) -> str:
        """How a row is named in a refusal (生产编号 P2612-000123-02, 预约 Y2612-0001)."""

    @abstractmethod
    async def holds(self, rule: Rule, actor: Actor | None, entity: E, context: Any) -> bool:
        """Whether the rule's scope holds for this actor (the role being checked already). `context` is
        what the caller passed along with the row (a piece's order), or None."""

    async def blocked(self, entity: E, context: Any) -> Conflict | None:
        """Something that stops every step on the row (its order cancelled, say)."""
        return None

    async def event_data(self, entity: E) -> dict[str, Any]:
        """What a webhook event says of the row beside its states (no personal data)."""
        return {"id": entity.pk}

    def roles_held(self, actor: Actor) -> set[Role]:
        if isinstance(actor, ServiceToken):
            return set()
        return {r for r in Role if actor.has_role(r)}

    def scope_refusal(self, t: Step, actor: Actor | None, entity: E, context: Any) -> NotAllowed:
        if actor is None:
            return NotAllowed("这个操作需要员工身份")
        return NotAllowed(f"{self.name_of(entity)} 不在你负责的范围内")

    def state_refusal(self, t: Step, entity: E) -> Conflict:
        state = self.states(state_of(entity))
        return Conflict(f"{self.name_of(entity)} 当前状态：{_label(state)}，不能{t.label}", _label(state))

    # The checker

    def check_role(self, t: Step, actor: Actor | None) -> None:
        """Refuse an actor without a role the row names: checked first, needing no reading of the row."""
        roles = t.roles()
        if actor is None:
            if any(r.scope == Scope.LINK for r in t.who):
                return
            raise NotAllowed("这个操作需要员工身份")
        if roles and not self.roles_held(actor) & set(roles):
            raise NotAllowed(only(roles))

    async def check(self, t: Step, actor: Actor | None, entity: E, context: Any = None) -> None:
        """Refuse unless the actor may take the step now: the role, then the scope, then the state."""
        self.check_role(t, actor)
        held = self.roles_held(actor) if actor is not None else set()
        scoped = False
        for rule in t.who:
            if rule.scope == Scope.LINK:
                scoped = scoped or actor is None
            elif rule.role in held and await self.holds(rule, actor, entity, context):
                scoped = True
            if scoped:
                break
        if not scoped:
            raise self.scope_refusal(t, actor, entity, context)
        if (stop := await self.blocked(entity, context)) is not None:
            raise stop
        if t.source and state_of(entity) not in t.source:
            raise self.state_refusal(t, entity)
        if t.guard is not None and (refused := t.guard(entity)):
            raise Conflict(refused)

    async def may(self, t: Step, actor: Actor | None, entity: E, context: Any = None) -> bool:
        try:
            await self.check(t, actor, entity, context)
        except (NotAllowed, Conflict):
            return False
        return True

    async def available(self, actor: Actor | None, entity: E, context: Any = None) -> list[Step]:
        """What the actor may do now, in table order: the only source of buttons for these rows."""
        offered = []
        for t in self:
            if not t.automatic and await self.may(t, actor, entity, context):
                offered.append(t)
        return offered

    def next_step(self, entity: E, actor: Actor | None = None) -> Step | None:
        """The first step onwards from the row's state (for this actor's roles): the one button it shows."""
        roles = self.roles_held(actor) if actor is not None else None
        for t in self:
            if t.automatic or t.target is None or state_of(entity) not in t.source:
                continue
            if roles is None or roles & set(t.roles()):
                return t
        return None

    async def move(self, t: Step, entity: E, **values: Any) -> None:
        """Take the step inside the caller's transaction: a conditional update on the row as the check saw
        it — its state, and whom it is assigned to — so of two people acting at once exactly one wins, and
        a member whose row was given to someone else meanwhile acts on nothing; the other is told why."""
        changes = dict(values)
        if t.target is not None:
            changes.update(state=t.target, state_since=utcnow())
        if not changes:
            return
        before = state_of(entity)
        query = self.model.filter(id=entity.pk)
        if t.source:
            query = query.filter(state__in=list(t.source))
        assigned = getattr(entity, self.assignee_field) if self.assignee_field else None
        if self.assignee_field:
            query = query.filter(**{self.assignee_field: assigned})
        moved = await query.update(**changes)
        await entity.refresh_from_db()
        if not moved:
            if self.assignee_field and getattr(entity, self.assignee_field) != assigned:
                raise Conflict(f"{self.name_of(entity)} 刚刚已改派", "已改派")
            state = self.states(state_of(entity))
            raise Conflict(f"{self.name_of(entity)} 刚刚已被改为：{_label(state)}", _label(state))
        if self.event_type is not None and t.target is not None:
            data = await self.event_data(entity)
            await webhooks.emit(self.event_type, {**data, "from": str(before), "to": str(t.target), "step": t.name})


def _label(state: StrEnum) -> str:
    return str(getattr(state, "label", state.value))
