"""公告 in chat, for every member: the latest news addressed to them, unread first, and the archive."""

from __future__ import annotations

import re

from cards.news import news_list_card
from handlers.router import Ctx, Router
from workflow.news import latest_for, news_view

router = Router("news")


@router.text(r"公告|最新公告|我的公告")
async def latest_news(ctx: Ctx, match: re.Match[str]) -> None:
    lines, unread = await latest_for(ctx.staff)
    latest = [(news_view(line.news, line.news.author), line.unread) for line in lines]
    await ctx.send(news_list_card(ctx.staff.userid, ctx.staff.id, latest, unread=unread, links=ctx.links))
