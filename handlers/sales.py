"""Sales (销售): opening the new-order form from the chat."""

from __future__ import annotations

import re

from cards.orders import new_order_card
from handlers.router import Ctx, Router
from workflow.order_lifecycle import ORDER

router = Router("sales", roles=ORDER.roles_of("create_order"))


@router.text(r"开单|新订单|新建订单|下单")
async def new_order(ctx: Ctx, match: re.Match[str]) -> None:
    await ctx.send(new_order_card(ctx.staff.userid, ctx.staff.id, links=ctx.links))
