"""Factory (工厂): `生产` lists the production orders waiting; a production number typed or scanned
shows the piece with its next step; several at once move each to its next step."""

from __future__ import annotations

import re

from bot.events import ScanCode
from cards.keys import DealerPieceStepKey, PieceStepKey
from cards.production import piece_card
from handlers.router import Ctx, Router
from models import DealerPiece, Order, OrderItem, OrderPiece
from workflow.dealer_lifecycle import DEALER_PIECE
from workflow.dealer_pieces import (
    dealer_piece_by_number,
    dealer_piece_step,
    is_dealer_number,
    piece_view,
    waiting_dealer_orders,
)
from workflow.errors import NotFound
from workflow.goods import piece_label
from workflow.piece_lifecycle import PIECE
from workflow.production import AT_FACTORY, NUMBER_RE, move_piece, move_pieces, piece_by_number, waiting_orders

router = Router("factory", roles=PIECE.roles_of("start", "finish", "ship"))

SCAN_KEY = "scan_production"  # the app menu's scancode_waitmsg button for the factory
NUMBERS = rf"(?:{NUMBER_RE.pattern})(?:[\s,，、;；]+(?:{NUMBER_RE.pattern}))*"


async def _show(ctx: Ctx, piece: OrderPiece) -> None:
    order = await Order.get(id=piece.order_id)
    item = await OrderItem.get(id=piece.item_id)
    steps = [(t.name, t.label) for t in await PIECE.available(ctx.staff, piece, order)]
    card = piece_card(
        ctx.staff.userid,
        piece_id=piece.id,
        production_number=piece.production_number or "",
        label=piece_label(item, piece),
        order_number=order.number,
        state=piece.state.label,
        expected=piece.expected_date,
        steps=steps,
        links=ctx.links,
    )
    await ctx.send(card)


async def _show_dealer(ctx: Ctx, piece: DealerPiece) -> None:
    order, dealer, label = await piece_view(piece)
    steps = [(t.name, t.label) for t in await DEALER_PIECE.available(ctx.staff, piece, order)]
    card = piece_card(
        ctx.staff.userid,
        piece_id=piece.id,
        production_number=piece.production_number,
        label=label,
        order_number=order.factory_number or order.number,
        state=piece.state.label,
        expected=piece.expected_date,
        steps=steps,
        links=ctx.links,
        dealer=dealer,
    )
    await ctx.send(card)


async def _numbers(ctx: Ctx, text: str) -> None:
    numbers = [m.group(0) for m in NUMBER_RE.finditer(text)]
    if len(numbers) == 1 and is_dealer_number(numbers[0]):
        await _show_dealer(ctx, await dealer_piece_by_number(numbers[0]))
        return
    if len(numbers) == 1:
        await _show(ctx, await piece_by_number(numbers[0]))
        return
    results = await move_pieces(actor=ctx.staff, numbers=numbers)
    done = sum(1 for r in results if r.ok)
    lines = [f"{r.number}：{'→ ' + r.text if r.ok else r.text}" for r in results]
    await ctx.reply(f"批量处理 {len(results)} 件，成功 {done} 件：\n" + "\n".join(lines))


@router.text(r"生产")
async def waiting(ctx: Ctx, match: re.Match[str]) -> None:
    orders = await waiting_orders(limit=20)
    dealer_orders = await waiting_dealer_orders(limit=20)
    if not orders and not dealer_orders:
        await ctx.reply("目前没有待生产的订单。")
        return
    lines = []
    for p in orders:
        states: dict[str, int] = {}
        for piece in p.pieces:
            states[piece.state.label] = states.get(piece.state.label, 0) + 1
        summary = "，".join(f"{k} {v}" for k, v in states.items())
        due = f"，预计 {p.expected:%m-%d} 完工" if p.expected else ""
        lines.append(f"{p.order.production_order_number}（订单 {p.order.number}）：{summary}{due}")
    for d in dealer_orders:
        left = sum(1 for piece in d.pieces if piece.state in AT_FACTORY)
        lines.append(f"{d.order.factory_number}（经销商 {d.dealer}）：待完成 {left} 件")
    url = ctx.links.oauth("/h5/production")
    await ctx.reply(
        f"待生产 {len(orders) + len(dealer_orders)} 单：\n"
        + "\n".join(lines)
        + f"\n扫码或发送生产编号推进；批量操作：{url}"
    )


@router.text(NUMBERS)
async def numbers_sent(ctx: Ctx, match: re.Match[str]) -> None:
    await _numbers(ctx, match.group(0))


@router.scan(SCAN_KEY)
async def scanned(ctx: Ctx, event: ScanCode) -> None:
    text = event.scan_result.split(",")[-1].strip()  # barcodes come as "CODE_128,<number>"
    await _numbers(ctx, text)


@router.click(PieceStepKey)
async def step_tapped(ctx: Ctx, key: PieceStepKey) -> None:
    piece = await OrderPiece.get_or_none(id=key.piece_id)
    if piece is None or key.step not in PIECE:
        raise NotFound("这件产品不存在")
    await move_piece(actor=ctx.staff, piece=piece, step=PIECE[key.step])
    await ctx.mark_card(f"{piece.production_number}：{piece.state.label}")
    await _show(ctx, piece)


@router.click(DealerPieceStepKey)
async def dealer_step_tapped(ctx: Ctx, key: DealerPieceStepKey) -> None:
    piece = await dealer_piece_step(ctx.staff, key.piece_id, key.step)
    await ctx.mark_card(f"{piece.production_number}：{piece.state.label}")
    await _show_dealer(ctx, piece)
