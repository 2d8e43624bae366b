"""Production (生产): an order released to the factory, and its pieces moved along the line.

Seed 000: the confirmed design is what the factory makes, and the warehouse matches each order to its
production number; seed 003: every item has its own status. Release gives the order a production
order number (P2612-000123) and each piece its own (P2612-000123-02) with an expected completion date
from its series' lead time. The moves themselves are rows of workflow/piece_lifecycle.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from infra.runtime import runtime
from infra.timeutil import local_today, utcnow
from models import (
    ApprovalState,
    Attachment,
    AttachmentCategory,
    EventKind,
    Order,
    OrderItem,
    OrderPiece,
    OrderState,
    Payment,
    PieceState,
    Product,
    Role,
)
from models.dealers import DealerPiece
from workflow import notify, timeline
from workflow.dealer_lifecycle import DEALER_PIECE
from workflow.dealer_pieces import dealer_piece_by_number, is_dealer_number, move_dealer_piece
from workflow.errors import Conflict, Invalid, NotFound
from workflow.goods import piece_label
from workflow.machine import Actor, Step
from workflow.piece_lifecycle import PIECE, apply_piece, piece_name
from workflow.scope import staff_covering

DEFAULT_DAYS = 15
# What a typed or scanned production number looks like (release gives P + yymm + order + piece; a dealer
# order's acceptance D + yymm + order + piece: workflow/dealer_pieces.py).
NUMBER_RE = re.compile(r"[PD]\d{4}-\d{6}-\d{2,3}", re.IGNORECASE)
# Pieces the factory still has to make or send.
AT_FACTORY = (PieceState.QUEUED, PieceState.IN_PRODUCTION, PieceState.FINISHED)


async def held_back(order: Order) -> str | None:
    """Why the order may not go to production yet (None: it may)."""
    if order.production_order_number is not None:
        return "已下达生产"
    if order.state != OrderState.CONFIRMED:
        return f"订单当前状态：{order.state.label}"
    if order.approval_state in (ApprovalState.PENDING, ApprovalState.REJECTED):
        return f"订单{order.approval_state.label}"
    if (
        runtime().config.money.production_needs_confirmed_payment
        and not await Payment.filter(order_id=order.id, confirmed_at__isnull=False, voided_at__isnull=True).exists()
    ):
        return "收款待财务确认"
    if await OrderPiece.filter(order_id=order.id, arrived_at__isnull=False).exists():
        return "已开始入库"  # received the old way, numbers typed at goods-in
    return None


async def release_if_ready(order: Order) -> bool:
    """Release the order to the factory if nothing holds it back: numbers, expected dates, the
    factory's card, in one transaction. Idempotent: of two calls at once, one releases, the other
    finds it done (False)."""
    await order.refresh_from_db()
    if await held_back(order) is not None:
        return False
    async with in_transaction():
        await Order.select_for_update().filter(id=order.id).first()
        now = utcnow()
        number = f"P{now:%y%m}-{order.id:06d}"
        # The conditions again, in the update itself: a price change sending the order back to review a
        # moment ago must not be released past.
        taken = (
            await Order.filter(id=order.id, production_order_number__isnull=True, state=OrderState.CONFIRMED)
            .filter(Q(approval_state__isnull=True) | Q(approval_state=ApprovalState.APPROVED))
            .update(production_order_number=number, released_at=now)
        )
        if not taken:
            return False
        await order.refresh_from_db()
        items = {i.id: i for i in await OrderItem.filter(order_id=order.id)}
        days = dict(
            await Product.filter(id__in=[i.product_id for i in items.values() if i.product_id]).values_list(
                "id", "production_days"
            )
        )
        pieces = await OrderPiece.filter(order_id=order.id).order_by("item_id", "seq")
        today, labels = local_today(), []
        for n, piece in enumerate(pieces, start=1):
            item = items[piece.item_id]
            lead = days.get(item.product_id or 0, DEFAULT_DAYS)
            piece.production_number = f"{number}-{n:02d}"
            piece.expected_date = today + timedelta(days=lead)
            await OrderPiece.filter(id=piece.id).update(
                production_number=piece.production_number, expected_date=piece.expected_date, state_since=now
            )
            labels.append(f"{piece.production_number} {piece_label(item, piece)}")
        expected = max((p.expected_date for p in pieces if p.expected_date), default=None)
        await timeline.record(
            order,
            None,
            EventKind.RELEASED,
            production_order_number=number,
            pieces=len(pieces),
            expected=f"{expected:%Y-%m-%d}" if expected else "—",
        )
        await notify.released(order, await staff_covering(order, Role.FACTORY), pieces=labels, expected=expected)
    return True


def normalize(raw: str) -> str:
    number = raw.strip().upper()
    if not number or len(number) > 64:
        raise Invalid("请输入生产编号", "production_number")
    return number


async def piece_by_number(raw: str) -> OrderPiece:
    number = normalize(raw)
    piece = await OrderPiece.get_or_none(production_number=number)
    if piece is None:
        raise NotFound(f"没有生产编号为 {number} 的产品，请核对编号")
    return piece


@dataclass(frozen=True)
class Moved:
    """One piece's outcome in a batch: moved (text says to what) or refused (text says why)."""

    number: str
    ok: bool
    text: str


async def move_piece(
    *,
    actor: Actor,
    piece: OrderPiece,
    step: Step | None = None,
    target: PieceState | None = None,
    expected_date: date | None = None,
) -> OrderPiece:
    """Move a piece by a row of the piece lifecycle: the one named, the one reaching `target`, or its
    next step for this actor. Refusals are the table's."""
    order = await Order.get(id=piece.order_id)
    await piece.refresh_from_db()
    if step is None and target is not None:
        step = PIECE.step_to(target)
        if step is None:
            raise Conflict(
                f"{piece_name(piece)} 当前状态：{piece.state.label}，不能改为{target.label}", piece.state.label
            )
    if step is None:
        step = PIECE.next_step(piece, actor)
        if step is None:
            raise Conflict(f"{piece_name(piece)} 当前状态：{piece.state.label}，没有可做的下一步", piece.state.label)
    if step.automatic or step.name == "arrive":
        # Arrival is goods-in (workflow/goods.py: the order may take all_in with it); install follows
        # the order's.
        PIECE.check_role(step, actor)
        raise Conflict(f"{piece_name(piece)} 的{step.label}请在入库登记中扫码", piece.state.label)
    await PIECE.check(step, actor, piece, order)
    item = await OrderItem.get(id=piece.item_id)
    values = {"expected_date": expected_date} if expected_date is not None else {}
    async with in_transaction():
        await apply_piece(
            step, actor=actor, piece=piece, order=order, event={"item": piece_label(item, piece)}, **values
        )
    return piece


async def move_pieces(*, actor: Actor, numbers: list[str], steps: dict[str, str] | None = None) -> list[Moved]:
    """A batch (several numbers scanned or sent at once, or ticked on the page): each piece by the step
    named for it (what the page showed: someone else's move meanwhile is refused, not doubled) or else
    its next step; each on its own, so one refused leaves the others moved."""
    named = {normalize(n): step for n, step in (steps or {}).items() if step in PIECE}
    results = []
    for raw in dict.fromkeys([*numbers, *named]):
        number = raw.strip().upper()
        try:
            moved = await move_numbered(actor=actor, number=number, step_name=named.get(number))
        except (Conflict, NotFound, Invalid) as refused:
            results.append(Moved(number, False, refused.message))
            continue
        results.append(Moved(moved.production_number or "", True, moved.state.label))
    return results


async def move_numbered(
    *,
    actor: Actor,
    number: str,
    step_name: str | None = None,
    target: PieceState | None = None,
    expected_date: date | None = None,
) -> OrderPiece | DealerPiece:
    """The piece a production number names, an order's or a dealer order's, moved by its own table's row
    (the factory's rows are the same Step objects in both)."""
    if is_dealer_number(normalize(number)):
        dealer_piece = await dealer_piece_by_number(normalize(number))
        step = DEALER_PIECE[step_name] if step_name in DEALER_PIECE.steps else None
        return await move_dealer_piece(
            actor=actor, piece=dealer_piece, step=step, target=target, expected_date=expected_date
        )
    piece = await piece_by_number(number)
    named = PIECE[step_name] if step_name in PIECE.steps else None
    return await move_piece(actor=actor, piece=piece, step=named, target=target, expected_date=expected_date)


@dataclass(frozen=True)
class ProductionOrder:
    order: Order
    pieces: list[OrderPiece]
    labels: dict[int, str]
    # The confirmed design is what the factory makes (seed 000: "将作为工厂生产的依据").
    designs: list[Attachment] = field(default_factory=list)

    @property
    def expected(self) -> date | None:
        return max((p.expected_date for p in self.pieces if p.expected_date), default=None)


async def waiting_orders(*, after: int = 0, limit: int = 50, order_number: str | None = None) -> list[ProductionOrder]:
    """Released orders with pieces still at the factory, oldest release first (id cursor)."""
    ids = OrderPiece.filter(state__in=list(AT_FACTORY), production_number__isnull=False).values_list(
        "order_id", flat=True
    )
    query = Order.filter(
        production_order_number__isnull=False, id__in=await ids, id__gt=after, state=OrderState.CONFIRMED
    )
    if order_number:
        query = query.filter(number=order_number)
    orders = await query.order_by("id").limit(limit)
    return [await production_of(o) for o in orders]


async def production_of(order: Order) -> ProductionOrder:
    pieces = await OrderPiece.filter(order_id=order.id).order_by("item_id", "seq")
    items = {i.id: i for i in await OrderItem.filter(order_id=order.id)}
    designs = await Attachment.filter(
        order_id=order.id, category=AttachmentCategory.DESIGN, removed_at__isnull=True
    ).order_by("id")
    return ProductionOrder(order, pieces, {p.id: piece_label(items[p.item_id], p) for p in pieces}, designs)


async def pieces_installed(order: Order) -> None:
    """The order's install is done: its pieces in stock are on the wall (the automatic row)."""
    now = utcnow()
    step = PIECE["install"]
    await OrderPiece.filter(order_id=order.id, state__in=list(step.source)).update(state=step.target, state_since=now)
