"""Dealers in the chat (经销商订货): 订货 sends the links to the catalogue and the order list; a dealer manager
taps 接单 on a submitted order's card (退回 needs a reason: the card opens the order's page)."""

from __future__ import annotations

import re

from cards.keys import DealerStepKey
from handlers.router import Ctx, Router
from models import DealerOrder, DealerOrderState, Role
from workflow import notify
from workflow.dealer_lifecycle import DEALER_ORDER
from workflow.dealers import dealer_units_for, owed, sees_order, take
from workflow.errors import NotFound
from workflow.pricing import fmt_money

router = Router("dealers", roles=DEALER_ORDER.roles_of(*DEALER_ORDER.steps))


@router.text(r"订货|订货单|经销商")
async def links(ctx: Ctx, match: re.Match[str]) -> None:
    units = [u.id for u in await dealer_units_for(ctx.staff)]
    manager = not ctx.staff.has_role(Role.DEALER)
    await notify.dealer_links(ctx.staff, manager=manager, owed=fmt_money(await owed(units)))


@router.click(DealerStepKey)
async def step_tapped(ctx: Ctx, key: DealerStepKey) -> None:
    order = await DealerOrder.get_or_none(id=key.order_id)
    if order is None or not await sees_order(ctx.staff, order):
        raise NotFound("没有找到这张订货单")
    await take(ctx.staff, order, key.step, tapped=True)
    await order.refresh_from_db()
    await ctx.mark_card(f"{order.number}：{DealerOrderState(order.state).label}")
