"""Sales (销售): opening the new-order form from the chat."""

from __future__ import annotations

import re

from cards.common import text_notice
from cards.keys import card_task_id
from handlers.router import Ctx, Router
from models import Role

router = Router("sales", roles=(Role.SALES,))


@router.text(r"开单|新订单|新建订单|下单")
async def new_order(ctx: Ctx, match: re.Match[str]) -> None:
    url = ctx.links.oauth("/h5/orders/new")
    await ctx.send(
        text_notice(
            ctx.staff.userid,
            task_id=card_task_id("neworderform", ctx.staff.id),
            title="新建订单",
            desc="填写订单号、客户信息、购买清单，拍下纸质订单",
            url=url,
            jumps=[("打开开单表单", url)],
        )
    )
