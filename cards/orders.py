"""Cards any member can ask for: an order with its timeline, their tasks, help."""

from __future__ import annotations

from typing import Any

from cards.common import clip, row, text_message, text_notice
from cards.keys import CardKind, CardRef
from cards.views import OrderView, TaskView
from infra.runtime import Links
from models import Order
from models.enums import Role


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
        ],
        quote=timeline,
        url=links.oauth(f"/h5/orders/{order.number}"),
    )


def my_tasks_card(userid: str, staff_id: int, tasks: list[TaskView], *, links: Links) -> dict[str, Any]:
    if not tasks:
        return text_message(userid, "你目前没有待办任务。")
    lines = [
        f"{t.scheduled_date:%m-%d} {t.kind_label} {t.order.number} {clip(t.order.customer_name, 12)}（{t.state_label}）"
        for t in tasks
    ]
    first = tasks[0]
    return text_notice(
        userid,
        task_id=CardRef(CardKind.MY_TASKS, staff_id).new_task_id(),
        title="我的任务",
        desc=f"共 {len(tasks)} 项待办",
        quote="\n".join(lines[:12]),
        url=links.oauth(f"/h5/orders/{first.order.number}"),
        jumps=[(f"{t.order.number} {t.kind_label}", links.oauth(f"/h5/orders/{t.order.number}")) for t in tasks[:3]],
    )


COMMANDS = {
    Role.SALES: "开单 — 新建订单",
    Role.MEASURER: "直接发照片 — 测量现场照片",
    Role.INSTALLER: "直接发照片 — 安装结果照片",
    Role.WAREHOUSE: "入库 <订单号> — 登记到货，然后扫码",
    Role.MANAGER: "今日统计 / 本周统计 / 本月统计 / 统计 2026-11 — 数据统计",
}


def help_card(
    userid: str, staff_id: int, roles: list[str], *, links: Links, note: str = "", can_create: bool = False
) -> dict[str, Any]:
    lines = ["我的任务 — 查看待办", "订单 <订单号> — 查看订单和进度", "查找 <订单号/手机号/姓名> — 搜索订单"]
    lines += [text for role, text in COMMANDS.items() if role.value in roles]
    jumps = []
    if can_create:
        jumps.append(("新建订单", links.oauth("/h5/orders/new")))
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
        url=links.oauth("/h5/orders"),
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
