"""What every member can ask: their tasks, an order, help."""

from __future__ import annotations

import re

from cards.orders import help_card, my_tasks_card, order_card, search_card
from handlers.router import Ctx, Router
from workflow.order_lifecycle import ORDER
from workflow.privacy import sees_money
from workflow.queue import queue_for
from workflow.scope import get_order_for
from workflow.search import OrderFilter, search_orders
from workflow.selectors import order_view
from workflow.stock import RULES
from workflow.tasks import follow_order

router = Router("common")


@router.text(r"我的任务|任务")
async def my_tasks(ctx: Ctx, match: re.Match[str]) -> None:
    await ctx.send(my_tasks_card(ctx.staff.userid, ctx.staff.id, await queue_for(ctx.staff), links=ctx.links))


@router.text(r"订单\s*[:：]?\s*(?P<number>\S+)")
async def show_order(ctx: Ctx, match: re.Match[str]) -> None:
    order = await get_order_for(ctx.staff, match["number"])
    view = await order_view(order, with_timeline=True, with_money=sees_money(ctx.staff))
    await ctx.send(order_card(ctx.staff.userid, view, links=ctx.links))
    task = await follow_order(ctx.staff, order)
    if task is not None:
        await ctx.reply(f"接下来发送的照片将归入订单 {order.number}（{task.kind.label}）")


@router.text(r"(查找|搜索|查询)\s*(?P<q>.+)")
async def find(ctx: Ctx, match: re.Match[str]) -> None:
    orders = await search_orders(ctx.staff, OrderFilter(q=match["q"]), limit=10)
    await ctx.send(search_card(ctx.staff.userid, ctx.staff.id, match["q"], orders, links=ctx.links))


async def send_help(ctx: Ctx, note: str = "") -> None:
    can_create = ORDER.has_role_for(ORDER["create_order"], ctx.staff)
    card = help_card(ctx.staff.userid, ctx.staff.id, ctx.staff.roles, links=ctx.links, note=note, can_create=can_create)
    await ctx.send(card)


@router.text(r"(今日|今天|本周|本月)统计|统计\s*\d{4}.*")
async def stats_for_managers(ctx: Ctx, match: re.Match[str]) -> None:
    # Managers' own router answers them first: whoever reaches this one is not a manager.
    await ctx.reply(f"数据统计只对管理层开放。{MY_QUEUE}")


# The role routers answer their own commands first: whoever reaches these does not hold the role.
MY_QUEUE = "你可以发送“我的任务”查看自己的待办。"


def only_for(what: str, *steps: str) -> str:
    return f"{what}只对{'、'.join(r.person for r in ORDER.roles_of(*steps))}开放。{MY_QUEUE}"


@router.text(r"开单|新订单|新建订单|下单")
async def not_sales(ctx: Ctx, match: re.Match[str]) -> None:
    await ctx.reply(only_for("开单", "create_order"))


@router.text(r"入库\s*\S*")
async def not_warehouse(ctx: Ctx, match: re.Match[str]) -> None:
    await ctx.reply(only_for("入库登记", "receive_item"))


@router.text(r"库存.*")
async def not_stock(ctx: Ctx, match: re.Match[str]) -> None:
    await ctx.reply(f"库存只对{'、'.join(r.person for r in RULES['view'].roles)}开放。{MY_QUEUE}")


@router.text(r"帮助|help|\?|？|菜单")
async def help_command(ctx: Ctx, match: re.Match[str]) -> None:
    await send_help(ctx)
