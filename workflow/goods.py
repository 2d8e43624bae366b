"""Goods-in (仓库): each piece's production number matched to the order; every piece in -> ready to install.

An item of quantity N is N pieces (models/pieces.py), each numbered by the factory and received on its
own, so a delivery may bring part of an item. The order takes `all_in` with the last piece of the last item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from infra.timeutil import utcnow
from models import Order, OrderItem, OrderPiece, PieceState, Staff
from models.flows import INSTALL
from workflow import notify
from workflow.errors import Conflict, Invalid, NotFound
from workflow.lifecycle import apply
from workflow.order_lifecycle import ORDER
from workflow.piece_lifecycle import PIECE, refusal
from workflow.selectors import item_label
from workflow.tasks import notify_dispatchers

PRODUCTION_NUMBER_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-_/.]{0,63}$")


def piece_label(item: OrderItem, piece: OrderPiece) -> str:
    """阳台：门窗 D70 第 2/3 件 (a single piece is just its item)."""
    if item.quantity == 1:
        return item_label(item)
    room = f"{item.room}：" if item.room else ""
    return f"{room}{item.series} {item.model} 第 {piece.seq}/{item.quantity} 件"


@dataclass(frozen=True)
class ItemGoods:
    """One order item as goods-in sees it: its pieces, in order, arrived or not."""

    item: OrderItem
    label: str
    pieces: list[OrderPiece]

    @property
    def arrived(self) -> int:
        return sum(1 for p in self.pieces if p.arrived_at is not None)

    @property
    def missing(self) -> list[OrderPiece]:
        return [p for p in self.pieces if p.arrived_at is None]


async def goods_of(order: Order) -> list[ItemGoods]:
    items = await OrderItem.filter(order_id=order.id).order_by("id")
    pieces = await OrderPiece.filter(order_id=order.id).order_by("item_id", "seq").prefetch_related("received_by")
    return [ItemGoods(i, item_label(i), [p for p in pieces if p.item_id == i.id]) for i in items]


async def check_warehouse(actor: Staff, order: Order) -> None:
    await ORDER.check(ORDER["receive_item"], actor, order)


def production_number(raw: str) -> str:
    """The number as stored (upper case), or Invalid."""
    number = raw.strip().upper()
    if not PRODUCTION_NUMBER_RE.match(number):
        raise Invalid("生产编号只能包含字母、数字和 - _ / .，最多 64 位", "production_number")
    return number


async def refuse_taken(numbers: dict[int, str]) -> None:
    """Conflict if a number (for piece id -> number) is already another piece's, naming whose."""
    taken = await OrderPiece.filter(production_number__in=list(numbers.values())).prefetch_related("order", "item")
    for other in taken:
        if numbers.get(other.id) != other.production_number:
            raise Conflict(
                f"生产编号 {other.production_number} 已登记在订单 {other.order.number} 的 "
                f"{piece_label(other.item, other)}，请核对编号",
                "编号重复",
            )


async def receive_pieces(*, actor: Staff, order: Order, numbers: dict[int, str]) -> list[OrderPiece]:
    """Record pieces' arrival (piece id -> production number), all of them or none. When the last
    piece of the order is in, the install dispatchers get "已到货"."""
    await check_warehouse(actor, order)
    if not numbers:
        raise Invalid("请填写至少一件产品的生产编号", "production_number")
    wanted = {piece_id: production_number(raw) for piece_id, raw in numbers.items()}
    twice = sorted({n for n in wanted.values() if list(wanted.values()).count(n) > 1})
    if twice:
        raise Invalid(f"生产编号 {'、'.join(twice)} 填写了不止一次，每件产品的编号各不相同", "production_number")
    pieces = await OrderPiece.filter(order_id=order.id, id__in=list(wanted)).order_by("item_id", "seq")
    await OrderPiece.fetch_for_list(pieces, "item")
    if len(pieces) != len(wanted):
        raise NotFound("这件产品不属于该订单")
    arrive = PIECE["arrive"]
    for piece in pieces:
        if piece.arrived_at is not None:
            raise Conflict(f"{piece_label(piece.item, piece)} 已入库，生产编号 {piece.production_number}", "已入库")
        if piece.production_number is not None and order.production_order_number is not None:
            # Released to the factory: the piece carries its number, and must have left the line.
            if wanted[piece.id] != piece.production_number:
                raise Invalid(
                    f"生产编号 {wanted[piece.id]} 与 {piece_label(piece.item, piece)} 的编号 "
                    f"{piece.production_number} 不符，请核对",
                    "production_number",
                )
            if piece.state not in arrive.source:
                raise Conflict(refusal(piece, arrive), piece.state.label)
    await refuse_taken(wanted)
    try:
        async with in_transaction():
            # One receipt of an order at a time: the last piece in sees every other and moves the order.
            await Order.select_for_update().filter(id=order.id).first()
            now = utcnow()
            for piece in pieces:
                number = wanted[piece.id]
                moved = await OrderPiece.filter(
                    id=piece.id,
                    arrived_at__isnull=True,
                    state__in=list(arrive.source) if order.production_order_number else list(PieceState),
                ).update(
                    production_number=number,
                    state=arrive.target,
                    state_since=now,
                    arrived_at=now,
                    received_by_id=actor.id,
                )
                if not moved:
                    raise Conflict(f"{piece_label(piece.item, piece)} 刚刚已由他人入库", "已入库")
                event = {"item": piece_label(piece.item, piece), "production_number": number}
                await apply(ORDER["receive_item"], actor=actor, order=order, event=event)
            if not await OrderPiece.filter(order_id=order.id, arrived_at__isnull=True).exists():
                await _all_in(actor, order)
    except IntegrityError:
        await refuse_taken(wanted)  # someone registered one of the numbers meanwhile: say where
        raise Conflict("生产编号已被登记，请刷新后核对", "编号重复") from None
    return await OrderPiece.filter(id__in=list(wanted)).order_by("item_id", "seq")


async def receive_item(*, actor: Staff, order: Order, item_id: int, production_number: str) -> OrderPiece:
    """The next piece of this item still to come arrives with this number (a scan picked the item)."""
    item = await OrderItem.get_or_none(id=item_id, order_id=order.id)
    if item is None:
        raise NotFound("这件产品不属于该订单")
    piece = await OrderPiece.filter(item_id=item.id, arrived_at__isnull=True).order_by("seq").first()
    if piece is None:
        await check_warehouse(actor, order)
        raise Conflict(f"{item_label(item)} 已全部入库", "已入库")
    [received] = await receive_pieces(actor=actor, order=order, numbers={piece.id: production_number})
    return received


async def receive_number(*, actor: Staff, order: Order | None, number: str) -> tuple[Order, OrderPiece]:
    """A scanned production number of a released order: the piece it names arrives. It must be a
    piece of the order being received (when one is picked), made and not yet in."""
    number = production_number(number)
    piece = await OrderPiece.get_or_none(production_number=number).prefetch_related("order", "item")
    if piece is None or piece.order.production_order_number is None:
        where = f"订单 {order.number} 的" if order is not None else ""
        raise NotFound(f"生产编号 {number} 不是{where}产品，请核对编号")
    if order is not None and piece.order_id != order.id:
        raise Conflict(f"生产编号 {number} 属于订单 {piece.order.number}，不是订单 {order.number} 的产品", "订单不符")
    await receive_pieces(actor=actor, order=piece.order, numbers={piece.id: number})
    await piece.refresh_from_db()
    return piece.order, piece


async def _all_in(actor: Staff, order: Order) -> None:
    try:
        await apply(ORDER["all_in"], actor=actor, order=order)
    except Conflict:
        return  # the order has moved on (cancelled)
    await notify_dispatchers(INSTALL, order)
    await notify.arrived(order)


async def missing_pieces(order: Order) -> list[OrderPiece]:
    return await OrderPiece.filter(order_id=order.id, arrived_at__isnull=True).order_by("item_id", "seq")
