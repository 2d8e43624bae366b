"""Stock in the chat (库存): 库存, or 库存 <型号/名称>, answers with the levels found and the link to the
stock page, for whoever workflow/stock.py RULES lets see stock."""

from __future__ import annotations

import re

from cards.stock import stock_answer
from handlers.router import Ctx, Router
from workflow import stock

router = Router("stock", roles=stock.RULES["view"].roles)

# As many levels as a card's quote area holds; the rest are on the page.
SHOWN = 6


@router.text(r"库存\s*(?P<q>.*)")
async def stock_levels(ctx: Ctx, match: re.Match[str]) -> None:
    query = match["q"].strip()[:64]
    found = await stock.levels(ctx.staff, query=query, limit=SHOWN + 50)
    # The ones below their safety level first: what the member most likely asks about.
    found.sort(key=lambda line: not line.below_safety)
    url = ctx.links.oauth("/h5/stock", **({"q": query} if query else {}))
    more = max(len(found) - SHOWN, 0)
    await ctx.send(stock_answer(ctx.staff.userid, found[:SHOWN], query=query, url=url, more=more))
