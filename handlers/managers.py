"""Managers (管理层): the numbers on request, alerts marked handled and prices approved from their card."""

from __future__ import annotations

import re

from cards.keys import AlertHandledKey, ApproveKey
from cards.views import Stats
from handlers.router import Ctx, Router
from models import Approval, Order, Role
from workflow.alerts import handle_alert
from workflow.approval import approve_prices
from workflow.errors import NotFound
from workflow.stats import parse_period, stats_for
from workflow.stats_push import queue_numbers

router = Router("managers", roles=(Role.MANAGER,))


async def numbers(ctx: Ctx, match: re.Match[str]) -> Stats:
    text = match["period"] or match["month"].replace(" ", "")
    return await stats_for(ctx.staff, parse_period(text))


@router.text(r"(?P<period>今日|今天|本周|本月)统计|统计\s*(?P<month>\d{4}\s*[-/年.]\s*\d{1,2}\s*月?)", prepare=numbers)
async def stats(ctx: Ctx, match: re.Match[str]) -> None:
    if not isinstance(ctx.prepared, Stats):
        # Prepared for another handler (the member's roles changed in between): the retry prepares anew.
        raise RuntimeError("the numbers were not prepared")
    await queue_numbers(ctx.staff, ctx.prepared)  # the chart follows, drawn by a job


@router.click(AlertHandledKey)
async def alert_handled(ctx: Ctx, key: AlertHandledKey) -> None:
    await handle_alert(actor=ctx.staff, alert_id=key.alert_id)
    await ctx.mark_card(f"已由{ctx.staff.name}处理")


@router.click(ApproveKey)
async def prices_approved(ctx: Ctx, key: ApproveKey) -> None:
    approval = await Approval.get_or_none(id=key.approval_id)
    if approval is None:
        raise NotFound("这次审核不存在")
    await approve_prices(actor=ctx.staff, order=await Order.get(id=approval.order_id), approval_id=approval.id)
    await ctx.mark_card(f"已同意（{ctx.staff.name}）")
