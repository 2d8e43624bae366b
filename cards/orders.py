"""Cards any member can ask for: an order with its timeline, their tasks, help."""

from __future__ import annotations

from typing import Any

from cards.common import clip, row, text_message, text_notice
from cards.keys import CardKind, CardRef
from cards.views import QUEUE_LIMIT, OrderView, QueueItem
from infra.runtime import Links
from models import Order
from models.enums import Role

QUEUE_PAGE = "/h5/queue"  # 我的待办


def order_card(userid: str, order: OrderView, *, links: Links) -> dict[str, Any]:
    timeline = "\n".join(order.timeline[-8:]) or "暂无记录"
    return text_notice(
        userid,
        task_id=CardRef(CardKind.ORDER, order.id).new_task_id(),
        title=f"订单 {order.number}",
        desc=f"{order.customer_name} · {order.state_label}",
        rows=[
            row("状态", order.state_label),
            row("地址", order.address),
            row("电话", order.phone_masked),
            row("产品", order.items_text),
            row("销售", order.sales_name),
            *([row("金额", order.money)] if order.money else []),
        ],
        quote=timeline,
        url=links.oauth(f"/h5/orders/{order.number}"),
    )


def queue_line(item: QueueItem) -> str:
    when = f" · {item.appointment:%m-%d}{item.job}" if item.appointment else ""
    return f"{item.number} {clip(item.customer_name, 12)} · {item.step}{when}"


def my_tasks_card(userid: str, staff_id: int, items: list[QueueItem], *, links: Links) -> dict[str, Any]:
    """What waits on the member, oldest first: each of the first three a tap from its next step, the rest on
    the 我的待办 page."""
    if not items:
        return text_message(userid, "你目前没有待办任务。")
    return text_notice(
        userid,
        task_id=CardRef(CardKind.MY_TASKS, staff_id).new_task_id(),
        title="我的任务",
        desc=f"共 {len(items)} 项待办，最早的在前" if len(items) < QUEUE_LIMIT else f"最早的 {QUEUE_LIMIT} 项待办",
        quote="\n".join(queue_line(i) for i in items[:8]),
        url=links.oauth(QUEUE_PAGE),
        jumps=[(f"{i.number} {i.step}", links.oauth(i.path)) for i in items[:3]],
    )


COMMANDS = {
    Role.SALES: "开单 — 新建订单",
    Role.MEASURER: "直接发照片 — 测量现场照片",
    Role.INSTALLER: "直接发照片 — 安装结果照片",
    Role.WAREHOUSE: "入库 <订单号> — 登记到货，然后扫码；库存 [型号] — 查库存",
    Role.MANAGER: "今日统计 / 本周统计 / 本月统计 / 统计 2026-11 — 数据统计",
    Role.FINANCE: "收款卡片上点“确认到账” — 确认收款；订单页“开具发票”",
    Role.FACTORY: "生产 — 待生产的订单；扫码或发生产编号 — 推进产品",
    Role.CONSULTANT: "预约 — 我的预约；新预约会自动分配给你",
    Role.RECEPTION: "预约 — 登记预约、到店、改派",
    Role.DEALER: "订货 — 产品目录（经销价）、我的订货单",
    Role.DEALER_MANAGER: "订货单 — 经销商订货单：接单 / 退回",
    Role.PURCHASING: "库存 [型号] — 查库存、预留与安全库存",
}

# Members who only order from the factory or take dealers' orders: the card opens the dealer order list.
DEALER_SIDE = {Role.DEALER.value, Role.DEALER_MANAGER.value}


def help_card(
    userid: str, staff_id: int, roles: list[str], *, links: Links, note: str = "", can_create: bool = False
) -> dict[str, Any]:
    # A dealer's staff see no customer's order: no order commands and no order list for them.
    dealer_only = bool(roles) and set(roles) <= DEALER_SIDE
    lines = ["我的任务 — 查看待办"]
    if not dealer_only:
        lines += ["订单 <订单号> — 查看订单和进度", "查找 <订单号/手机号/姓名> — 搜索订单"]
    lines.append("公告 — 公司新闻、促销和价目表")
    lines += [text for role, text in COMMANDS.items() if role.value in roles]
    jumps = [("我的待办", links.oauth(QUEUE_PAGE))]
    if Role.CONSULTANT.value in roles or Role.RECEPTION.value in roles:
        jumps.append(("预约", links.oauth("/h5/leads")))
    if can_create:
        jumps.append(("新建订单", links.oauth("/h5/orders/new")))
    if Role.FINANCE.value in roles:
        # The order list is the card itself; finance's own lists take the jumps (WeCom shows three).
        jumps += [("待确认收款", links.oauth("/h5/finance/payments")), ("未收清订单", links.oauth("/h5/receivables"))]
    if Role.FACTORY.value in roles:
        jumps.append(("生产进度", links.oauth("/h5/production")))
    if Role.DEALER.value in roles:
        jumps.append(("产品目录·订货", links.oauth("/h5/dealer")))
    if Role.DEALER.value in roles or Role.DEALER_MANAGER.value in roles:
        jumps.append(("订货单", links.oauth("/h5/dealer/orders")))
    if Role.WAREHOUSE.value in roles or Role.PURCHASING.value in roles:
        jumps.append(("库存", links.oauth("/h5/stock")))
    if not dealer_only:
        jumps.append(("订单列表", links.oauth("/h5/orders")))
    if Role.MANAGER.value in roles:
        jumps.append(("数据看板", links.oauth("/h5/dashboard")))
    role_names = "、".join(Role(r).label for r in roles if r in Role._value2member_map_) or "未分配角色"
    return text_notice(
        userid,
        task_id=CardRef(CardKind.HELP, staff_id).new_task_id(),
        title="接力 · 可以这样和我说",
        desc=note or f"你的角色：{role_names}",
        quote="\n".join(lines),
        url=links.oauth("/h5/dealer/orders" if dealer_only else "/h5/orders"),
        jumps=jumps,
    )


def search_card(userid: str, staff_id: int, q: str, orders: list[Order], *, links: Links) -> dict[str, Any]:
    if not orders:
        return text_message(userid, f"没有找到与“{clip(q, 60)}”相关的订单。")
    lines = [f"{o.number} {clip(o.customer.name, 12)} · {o.state.label}" for o in orders[:10]]
    return text_notice(
        userid,
        task_id=CardRef(CardKind.SEARCH, staff_id).new_task_id(),
        title=f"找到 {len(orders)} 个订单",
        desc=clip(q, 40),
        quote="\n".join(lines),
        url=links.oauth("/h5/orders", q=q),
        jumps=[(f"{o.number} {o.customer.name}", links.oauth(f"/h5/orders/{o.number}")) for o in orders[:3]],
    )


def new_order_card(userid: str, staff_id: int, *, links: Links) -> dict[str, Any]:
    url = links.oauth("/h5/orders/new")
    return text_notice(
        userid,
        task_id=CardRef(CardKind.NEW_ORDER_FORM, staff_id).new_task_id(),
        title="新建订单",
        desc="填写订单号、客户信息、购买清单，拍下纸质订单",
        url=url,
        jumps=[("打开开单表单", url)],
    )
