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

from typing import Any

from models import EventKind, Order, OrderPiece, OrderState, PieceState, Role, ServiceToken, Staff
from workflow import timeline, webhooks
from workflow.errors import Conflict, NotAllowed
from workflow.lifecycle import Rule, Scope
from workflow.machine import Actor, Machine, Step
from workflow.scope import covers

P = PieceState

# What a service token's scope lets its caller do, as the role a member would need.
TOKEN_ROLES = {"pieces:write": Role.FACTORY}


def piece_name(piece: OrderPiece) -> str:
    return f"生产编号 {piece.production_number}" if piece.production_number else f"第 {piece.seq} 件"


class PieceLifecycle(Machine[OrderPiece]):
    """Pieces are judged by their order (passed as the context): its unit, and whether it is cancelled."""

    model = OrderPiece
    states = PieceState
    source_file = "workflow/piece_lifecycle.py"
    intro = (
        "One piece per unit of an order line, released to the factory with its production number; a service "
        "token with `pieces:write` acts as the factory."
    )
    entry = "release"
    event_type = webhooks.PIECE_MOVED

    def name_of(self, entity: OrderPiece) -> str:
        return piece_name(entity)

    def roles_held(self, actor: Actor) -> set[Role]:
        if isinstance(actor, ServiceToken):
            return {TOKEN_ROLES[s] for s in actor.scope_list if s in TOKEN_ROLES}
        return super().roles_held(actor)

    async def holds(self, rule: Rule, actor: Actor | None, entity: OrderPiece, context: Any) -> bool:
        if isinstance(actor, ServiceToken):
            return True  # the factory's own system acts across the company
        return actor is not None and rule.scope == Scope.UNIT and await covers(actor, context)

    def scope_refusal(self, t: Step, actor: Actor | None, entity: OrderPiece, context: Any) -> NotAllowed:
        return NotAllowed(f"订单 {context.number} 不在你负责的范围内")

    async def event_data(self, entity: OrderPiece) -> dict[str, Any]:
        order = await Order.get(id=entity.order_id)
        return {"production_number": entity.production_number, "order_number": order.number, "seq": entity.seq}

    async def blocked(self, entity: OrderPiece, context: Any) -> Conflict | None:
        if context.state == OrderState.CANCELLED:
            return Conflict(f"订单 {context.number} 已取消", "已取消")
        return None


def refusal(piece: OrderPiece, t: Step) -> str:
    return f"{piece_name(piece)} 当前状态：{piece.state.label}，不能{t.label}"


async def apply_piece(
    t: Step,
    *,
    actor: Actor | None,
    piece: OrderPiece,
    order: Order,
    event: dict[str, Any] | None = None,
    **values: Any,
) -> None:
    """Move the piece inside the caller's transaction (PIECE.move: of two people moving the same piece
    at once exactly one wins; the other gets the state it is in now) and write the order's timeline."""
    await PIECE.move(t, piece, **values)
    if t.event is not None:
        staff = actor if isinstance(actor, Staff) else None
        payload = {"production_number": piece.production_number or "", **(event or {})}
        await timeline.record(order, staff, EventKind(t.event), **payload)


FACTORY = (Rule(Role.FACTORY, Scope.UNIT),)
WAREHOUSE = (Rule(Role.WAREHOUSE, Scope.UNIT),)

PIECE = PieceLifecycle(
    "piece",
    [
        Step("start", "开始生产", FACTORY, (P.QUEUED,), P.IN_PRODUCTION, EventKind.PIECE_STARTED),
        Step("finish", "完工", FACTORY, (P.IN_PRODUCTION,), P.FINISHED, EventKind.PIECE_FINISHED),
        Step("ship", "发货", FACTORY, (P.FINISHED,), P.SHIPPED, EventKind.PIECE_SHIPPED),
        # Goods-in: the warehouse scans the piece's production number (a piece fetched from the
        # factory's yard may come in without being marked shipped).
        Step("arrive", "到仓", WAREHOUSE, (P.SHIPPED, P.FINISHED), P.IN_STOCK, EventKind.GOODS_IN),
        Step("install", "已安装", (Rule(Role.INSTALLER, Scope.ASSIGNEE),), (P.IN_STOCK,), P.INSTALLED, automatic=True),
    ],
)
