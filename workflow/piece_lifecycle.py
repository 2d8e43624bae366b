"""A production piece's lifecycle, declared once: from the factory line to the wall (seed 003: every
item carries its own status).

Read a row as: *name* (the button's label) may be done by *who* when the piece is in *source*; it
takes the piece to *target* and writes the order's timeline event. The factory's buttons in chat and
on H5, the API's refusals and the goods-in match all come from this table. The rows share the
order table's Rule and Scope (workflow/lifecycle.py); a piece is judged by its order's place in the
company, and the factory's own system (a service token with the `pieces:write` scope) acts as the
factory role across the company.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from infra.timeutil import utcnow
from models import EventKind, Order, OrderPiece, OrderState, PieceState, Role, ServiceToken, Staff
from workflow import timeline
from workflow.errors import Conflict, NotAllowed
from workflow.lifecycle import Rule, Scope
from workflow.scope import covers

P = PieceState
Actor = Staff | ServiceToken

# What a service token's scope lets its caller do, as the role a member would need.
TOKEN_ROLES = {"pieces:write": Role.FACTORY}


@dataclass(frozen=True)
class PieceTransition:
    name: str
    label: str
    who: tuple[Rule, ...]
    source: tuple[PieceState, ...]
    target: PieceState
    event: EventKind | None = None
    automatic: bool = False  # follows from another step (the order's install); never a button

    def roles(self) -> list[Role]:
        return [r.role for r in self.who if r.role is not None]


def _roles_of(actor: Actor) -> set[Role]:
    if isinstance(actor, ServiceToken):
        return {TOKEN_ROLES[s] for s in actor.scope_list if s in TOKEN_ROLES}
    return {r for r in Role if actor.has_role(r)}


def piece_name(piece: OrderPiece) -> str:
    return f"生产编号 {piece.production_number}" if piece.production_number else f"第 {piece.seq} 件"


class PieceLifecycle:
    def __init__(self, name: str, transitions: Iterable[PieceTransition]) -> None:
        self.name = name
        self.transitions = {t.name: t for t in transitions}

    def __getitem__(self, name: str) -> PieceTransition:
        return self.transitions[name]

    def __iter__(self) -> Iterator[PieceTransition]:
        return iter(self.transitions.values())

    def roles_of(self, *names: str) -> tuple[Role, ...]:
        return tuple(dict.fromkeys(r for name in names for r in self[name].roles()))

    def next_step(self, piece: OrderPiece, actor: Actor | None = None) -> PieceTransition | None:
        """The step a piece in its state goes on by (for this actor's roles): the button it shows."""
        roles = _roles_of(actor) if actor is not None else None
        for t in self:
            if t.automatic or piece.state not in t.source:
                continue
            if roles is None or roles & set(t.roles()):
                return t
        return None

    def step_to(self, target: PieceState, roles: Iterable[Role] = ()) -> PieceTransition | None:
        """The row that brings a piece to this state (for one of these roles, if named)."""
        wanted = set(roles)
        for t in self:
            if t.target == target and not t.automatic and (not wanted or wanted & set(t.roles())):
                return t
        return None

    def check_role(self, t: PieceTransition, actor: Actor) -> None:
        roles = t.roles()
        if roles and not _roles_of(actor) & set(roles):
            raise NotAllowed("只有" + "或".join(dict.fromkeys(r.person for r in roles)) + "可以这样操作")

    async def check(self, t: PieceTransition, actor: Actor, piece: OrderPiece, order: Order) -> None:
        """Refuse unless the actor may do it now: the role, then the scope, then the order and the state."""
        self.check_role(t, actor)
        if isinstance(actor, Staff) and not await _holds_scope(t, actor, order):
            raise NotAllowed(f"订单 {order.number} 不在你负责的范围内")
        if order.state == OrderState.CANCELLED:
            raise Conflict(f"订单 {order.number} 已取消", "已取消")
        if piece.state not in t.source:
            raise Conflict(refusal(piece, t), piece.state.label)

    async def available(self, actor: Actor, piece: OrderPiece, order: Order) -> list[PieceTransition]:
        offered = []
        for t in self:
            if t.automatic:
                continue
            try:
                await self.check(t, actor, piece, order)
            except (NotAllowed, Conflict):
                continue
            offered.append(t)
        return offered


def refusal(piece: OrderPiece, t: PieceTransition) -> str:
    return f"{piece_name(piece)} 当前状态：{piece.state.label}，不能{t.label}"


async def _holds_scope(t: PieceTransition, actor: Staff, order: Order) -> bool:
    for rule in t.who:
        if rule.role is None or not actor.has_role(rule.role):
            continue
        if rule.scope == Scope.UNIT and await covers(actor, order):
            return True
    return False


async def apply_piece(
    t: PieceTransition,
    *,
    actor: Actor | None,
    piece: OrderPiece,
    order: Order,
    event: dict[str, Any] | None = None,
    **values: Any,
) -> None:
    """Move the piece inside the caller's transaction: a conditional update, so of two people moving
    the same piece at once exactly one wins; the other gets the state it is in now."""
    now = utcnow()
    moved = await OrderPiece.filter(id=piece.id, state__in=list(t.source)).update(
        state=t.target, state_since=now, **values
    )
    await piece.refresh_from_db()
    if not moved:
        raise Conflict(f"{piece_name(piece)} 刚刚已被改为：{piece.state.label}", piece.state.label)
    if t.event is not None:
        staff = actor if isinstance(actor, Staff) else None
        payload = {"production_number": piece.production_number or "", **(event or {})}
        await timeline.record(order, staff, t.event, **payload)


FACTORY = (Rule(Role.FACTORY, Scope.UNIT),)
WAREHOUSE = (Rule(Role.WAREHOUSE, Scope.UNIT),)

PIECE = PieceLifecycle(
    "piece",
    [
        PieceTransition("start", "开始生产", FACTORY, (P.QUEUED,), P.IN_PRODUCTION, EventKind.PIECE_STARTED),
        PieceTransition("finish", "完工", FACTORY, (P.IN_PRODUCTION,), P.FINISHED, EventKind.PIECE_FINISHED),
        PieceTransition("ship", "发货", FACTORY, (P.FINISHED,), P.SHIPPED, EventKind.PIECE_SHIPPED),
        # Goods-in: the warehouse scans the piece's production number (a piece fetched from the
        # factory's yard may come in without being marked shipped).
        PieceTransition("arrive", "到仓", WAREHOUSE, (P.SHIPPED, P.FINISHED), P.IN_STOCK, EventKind.GOODS_IN),
        PieceTransition(
            "install", "已安装", (Rule(Role.INSTALLER, Scope.ASSIGNEE),), (P.IN_STOCK,), P.INSTALLED, automatic=True
        ),
    ],
)
