"""Service tickets in the chat (售后工单): 报修 <订单号>, one-tap dispatch, the installer's 接单 / 拒单, photos
before and after (the photos themselves arrive through handlers/workers.py), 完成."""

from __future__ import annotations

import re
from datetime import date

from cards.keys import TicketAnswerKey, TicketDispatchKey, TicketFinishKey, TicketPhotosKey
from handlers.router import Ctx, Router
from workflow import notify
from workflow.errors import Conflict, Invalid
from workflow.order_lifecycle import ORDER
from workflow.scope import get_order_for
from workflow.ticket_lifecycle import TICKET
from workflow.tickets import answer_ticket, dispatch_ticket, finish_ticket, photos_for_ticket

router = Router(
    "tickets",
    roles=tuple(dict.fromkeys([*ORDER["open_ticket"].roles(), *TICKET.roles_of("dispatch", "accept", "finish")])),
)


@router.text(r"报修\s*[:：]?\s*(?P<number>\S+)")
async def report(ctx: Ctx, match: re.Match[str]) -> None:
    order = await get_order_for(ctx.staff, match["number"])
    try:
        await ORDER.check(ORDER["open_ticket"], ctx.staff, order)
    except Conflict:
        raise Conflict(f"订单 {order.number} {order.state.label}，安装完成后才能报修", "不能报修") from None
    await notify.ticket_form(ctx.staff.userid, order)


@router.click(TicketDispatchKey)
async def dispatch(ctx: Ctx, key: TicketDispatchKey) -> None:
    try:
        day = date.fromisoformat(key.date)
    except ValueError:
        raise Invalid("日期不正确") from None
    ticket = await dispatch_ticket(actor=ctx.staff, ticket_id=key.ticket_id, worker_id=key.worker_id, day=day)
    await ctx.reply(f"{ticket.number} 已派单（{day:%m月%d日}）")


@router.click(TicketAnswerKey)
async def answer(ctx: Ctx, key: TicketAnswerKey) -> None:
    await answer_ticket(actor=ctx.staff, ticket_id=key.ticket_id, accept=bool(key.accept))
    await ctx.mark_card("已接单" if key.accept else "已拒单")


@router.click(TicketPhotosKey)
async def photos(ctx: Ctx, key: TicketPhotosKey) -> None:
    ticket = await photos_for_ticket(actor=ctx.staff, ticket_id=key.ticket_id, after=bool(key.after))
    when = "维修后" if key.after else "维修前"
    await ctx.reply(f"接下来发送的照片将作为{when}照片归入工单 {ticket.number}")


@router.click(TicketFinishKey)
async def finish(ctx: Ctx, key: TicketFinishKey) -> None:
    ticket = await finish_ticket(actor=ctx.staff, ticket_id=key.ticket_id)
    await ctx.mark_card(f"{ticket.number} 已完成")
