"""A dealer order's pieces on the factory's line: found by production number and moved by the rows of
DEALER_PIECE (the production piece's own rows for the factory), so the factory's page, chat, scanner and
API move them as they move an order's pieces (workflow/production.py hands a dealer number here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tortoise.transactions import in_transaction

from infra.timeutil import utcnow
from models import (
    DealerEventKind,
    DealerOrder,
    DealerOrderEvent,
    DealerOrderLine,
    DealerOrderState,
    DealerPiece,
    PieceState,
    Staff,
)
from workflow.dealer_lifecycle import DEALER_PIECE
from workflow.errors import Conflict, NotFound
from workflow.machine import Actor, Step

# The factory's number for a dealer order is D + yymm + the order's id; its pieces add their sequence.
PREFIX = "D"
# Pieces the factory still has to make or send.
AT_FACTORY = (PieceState.QUEUED, PieceState.IN_PRODUCTION, PieceState.FINISHED)


def is_dealer_number(number: str) -> bool:
    return number.upper().startswith(PREFIX)


async def dealer_piece_by_number(number: str) -> DealerPiece:
    piece = await DealerPiece.get_or_none(production_number=number.strip().upper())
    if piece is None:
        raise NotFound(f"没有生产编号为 {number} 的产品，请核对编号")
    return piece


def piece_label(line: DealerOrderLine, piece: DealerPiece) -> str:
    return f"{line.product.label} 第 {piece.seq}/{line.quantity} 件"


async def move_dealer_piece(
    *,
    actor: Actor,
    piece: DealerPiece,
    step: Step | None = None,
    target: PieceState | None = None,
    expected_date: date | None = None,
) -> DealerPiece:
    """Move a dealer order's piece by a row of DEALER_PIECE: the one named, the one reaching `target`, or its
    next step for this actor. Refusals are the table's; the order's timeline records the move."""
    order = await DealerOrder.get(id=piece.order_id)
    await piece.refresh_from_db()
    name = DEALER_PIECE.name_of(piece)
    if step is None and target is not None:
        step = DEALER_PIECE.step_to(target)
        if step is None:
            raise Conflict(f"{name} 当前状态：{piece.state.label}，不能改为{target.label}", piece.state.label)
    if step is None:
        step = DEALER_PIECE.next_step(piece, actor)
        if step is None:
            raise Conflict(f"{name} 当前状态：{piece.state.label}，没有可做的下一步", piece.state.label)
    if order.state != DealerOrderState.ACCEPTED:
        raise Conflict(f"订货单 {order.number} {DealerOrderState(order.state).label}", "未接单")
    await DEALER_PIECE.check(step, actor, piece, order)
    values: dict[str, object] = {"expected_date": expected_date} if expected_date is not None else {}
    if step.target == PieceState.FINISHED:
        values["finished_at"] = utcnow()
    async with in_transaction():
        await DEALER_PIECE.move(step, piece, **values)
        staff = actor if isinstance(actor, Staff) else None
        await DealerOrderEvent.create(
            order=order,
            actor=staff,
            kind=DealerEventKind.PIECE_MOVED,
            payload={"production_number": piece.production_number, "state": piece.state.label, "step": step.name},
        )
    return piece


async def dealer_piece_step(actor: Staff, piece_id: int, step: str) -> DealerPiece:
    """A piece's button on the dealer order's page (the dealer's 确认收货, the factory's next step)."""
    piece = await DealerPiece.get_or_none(id=piece_id)
    if piece is None or step not in DEALER_PIECE:
        raise NotFound("这件产品不存在")
    return await move_dealer_piece(actor=actor, piece=piece, step=DEALER_PIECE[step])


@dataclass(frozen=True)
class DealerProduction:
    """An accepted dealer order on the factory's page: its pieces still to make or send."""

    order: DealerOrder
    dealer: str
    pieces: list[DealerPiece]
    labels: dict[int, str]

    @property
    def expected(self) -> date | None:
        return max((p.expected_date for p in self.pieces if p.expected_date), default=None)


async def waiting_dealer_orders(
    *, after: int = 0, limit: int = 50, factory_number: str | None = None
) -> list[DealerProduction]:
    """Accepted dealer orders with pieces still at the factory, oldest first (id cursor)."""
    ids = await DealerPiece.filter(state__in=list(AT_FACTORY)).distinct().values_list("order_id", flat=True)
    query = DealerOrder.filter(id__in=list(ids), id__gt=after, state=DealerOrderState.ACCEPTED)
    if factory_number:
        query = query.filter(factory_number=factory_number.strip().upper())
    orders = await query.order_by("id").limit(limit).prefetch_related("dealer")
    result = []
    for order in orders:
        pieces = await DealerPiece.filter(order_id=order.id).order_by("id").prefetch_related("line__product")
        labels = {p.id: piece_label(p.line, p) for p in pieces}
        result.append(DealerProduction(order, order.dealer.name, pieces, labels))
    return result


async def piece_view(piece: DealerPiece) -> tuple[DealerOrder, str, str]:
    """A piece's order, its dealer's name and its label (the factory's piece card)."""
    order = await DealerOrder.get(id=piece.order_id).prefetch_related("dealer")
    line = await DealerOrderLine.get(id=piece.line_id).prefetch_related("product")
    return order, order.dealer.name, piece_label(line, piece)
