"""The order's timeline: every change is an OrderEvent, and this is how staff read one."""

from __future__ import annotations

import contextlib
from typing import Any

from infra.timeutil import fmt_time
from models import AttachmentCategory, Order, OrderEvent, Staff

EVENT_TEXT = {
    "created": "{actor} 创建订单",
    "measure_dispatched": "{actor} 派测量给 {worker}，{date} 上门",
    "measure_accepted": "{actor} 接受测量任务",
    "measure_declined": "{actor} 拒绝测量任务：{reason}",
    "measure_rescheduled": "{actor} 将测量由 {old} 改到 {date}",
    "measure_reassigned": "{actor} 将测量改派给 {worker}（原 {previous}）",
    "measure_transferred": "{actor} 将测量转交给 {worker}",
    "photo_added": "{actor} 上传现场照片",
    "photo_categorized": "{actor} 将照片归为 {category}",
    "drawing_added": "{actor} 上传图纸 {filename}",
    "items_adjusted": "{actor} 调整产品与房间",
    "measured": "{actor} 完成测量（{photos} 张照片，{drawings} 份图纸）",
    "remeasure": "{actor} 要求重新测量：{reason}",
    "design_added": "{actor} 上传设计 {filename}",
    "designed": "{actor} 完成设计",
    "confirmed": "{actor} 确认客户接受设计，合同金额 {amount} 元",
    "payment": "{actor} 登记收款 {amount} 元（{kind}，{method}）",
    "goods_in": "{actor} 入库 {item}，生产编号 {production_number}",
    "in_stock": "货已到齐",
    "install_dispatched": "{actor} 派安装给 {worker}，{date} 上门",
    "install_accepted": "{actor} 接受安装任务",
    "install_declined": "{actor} 拒绝安装任务：{reason}",
    "install_rescheduled": "{actor} 将安装由 {old} 改到 {date}",
    "install_reassigned": "{actor} 将安装改派给 {worker}（原 {previous}）",
    "install_transferred": "{actor} 将安装转交给 {worker}",
    "install_photo_added": "{actor} 上传安装照片",
    "installed": "{actor} 完成安装（{photos} 张照片）",
    "signed": "客户签字确认",
    "visited": "{actor} 回访：{result}",
    "cancelled": "{actor} 取消订单：{reason}",
}


async def record(order: Order, actor: Staff | None, kind: str, /, **payload: Any) -> OrderEvent:
    return await OrderEvent.create(order=order, actor=actor, kind=kind, payload=payload)


def describe(event: OrderEvent, actor_name: str) -> str:
    payload = dict(event.payload)
    if "category" in payload:
        with contextlib.suppress(ValueError):
            payload["category"] = AttachmentCategory(payload["category"]).label
    template = EVENT_TEXT.get(event.kind, "{actor} " + event.kind)
    try:
        text = template.format(actor=actor_name, **payload)
    except KeyError:
        text = f"{actor_name} {event.kind}"
    return f"{fmt_time(event.created_at)} {text}"


async def timeline(order: Order) -> list[str]:
    events = await OrderEvent.filter(order_id=order.id).order_by("id").prefetch_related("actor")
    # Photos come in dozens: one line per run of the same photo event keeps the timeline readable.
    lines: list[str] = []
    last_kind = ""
    for event in events:
        if event.kind == last_kind and event.kind in ("photo_added", "photo_categorized"):
            continue
        last_kind = event.kind
        lines.append(describe(event, event.actor.name if event.actor else "系统"))
    return lines
