"""The order's timeline: every change is an OrderEvent, and this is how staff read one."""

from __future__ import annotations

import contextlib
from typing import Any

from infra.timeutil import fmt_time
from models import AttachmentCategory, EventKind, Order, OrderEvent, Staff

EVENT_TEXT: dict[EventKind, str] = {
    EventKind.CREATED: "{actor} 创建订单",
    EventKind.MEASURE_DISPATCHED: "{actor} 派测量给 {worker}，{date} 上门",
    EventKind.MEASURE_ACCEPTED: "{actor} 接受测量任务",
    EventKind.MEASURE_DECLINED: "{actor} 拒绝测量任务：{reason}",
    EventKind.MEASURE_RESCHEDULED: "{actor} 将测量由 {old} 改到 {date}",
    EventKind.MEASURE_REASSIGNED: "{actor} 将测量改派给 {worker}（原 {previous}）",
    EventKind.MEASURE_TRANSFERRED: "{actor} 将测量转交给 {worker}",
    EventKind.MEASURE_RETURNED: "{worker} 已离职，测量任务退回派单",
    EventKind.PHOTO_ADDED: "{actor} 上传现场照片",
    EventKind.PHOTO_CATEGORIZED: "{actor} 将照片归为 {category}",
    EventKind.DRAWING_ADDED: "{actor} 上传图纸 {filename}",
    EventKind.ITEMS_ADJUSTED: "{actor} 调整产品与房间",
    EventKind.MEASURED: "{actor} 完成测量（{photos} 张照片，{drawings} 份图纸）",
    EventKind.REMEASURE: "{actor} 要求重新测量：{reason}",
    EventKind.DESIGN_ADDED: "{actor} 上传设计 {filename}",
    EventKind.DESIGNED: "{actor} 完成设计",
    EventKind.CONFIRMED: "{actor} 确认客户接受设计，合同金额 {amount} 元",
    EventKind.PAYMENT: "{actor} 登记收款 {amount} 元（{kind}，{method}）",
    EventKind.GOODS_IN: "{actor} 入库 {item}，生产编号 {production_number}",
    EventKind.IN_STOCK: "货已到齐",
    EventKind.INSTALL_DISPATCHED: "{actor} 派安装给 {worker}，{date} 上门",
    EventKind.INSTALL_ACCEPTED: "{actor} 接受安装任务",
    EventKind.INSTALL_DECLINED: "{actor} 拒绝安装任务：{reason}",
    EventKind.INSTALL_RESCHEDULED: "{actor} 将安装由 {old} 改到 {date}",
    EventKind.INSTALL_REASSIGNED: "{actor} 将安装改派给 {worker}（原 {previous}）",
    EventKind.INSTALL_TRANSFERRED: "{actor} 将安装转交给 {worker}",
    EventKind.INSTALL_RETURNED: "{worker} 已离职，安装任务退回派单",
    EventKind.INSTALL_PHOTO_ADDED: "{actor} 上传安装照片",
    EventKind.INSTALLED: "{actor} 完成安装（{photos} 张照片）",
    EventKind.SIGNED: "客户签字确认",
    EventKind.VISITED: "{actor} 回访：{result}",
    EventKind.CANCELLED: "{actor} 取消订单：{reason}",
    EventKind.CANCEL_UNDONE: "{actor} 撤销取消，订单恢复为{state}",
    EventKind.PAYMENT_VOIDED: "{actor} 作废收款 {amount} 元：{reason}",
    EventKind.PAYMENT_CORRECTED: "{actor} 将收款 {old} 元更正为 {amount} 元（{kind}，{method}）：{reason}",
    EventKind.UPLOAD_REMOVED: "{actor} 删除{category} {filename}：{reason}",
    EventKind.CUSTOMER_EDITED: "{actor} 修改客户{changed}：{reason}",
    EventKind.COPIED: "{actor} 由订单 {source} 复制",
    EventKind.APPROVAL_REQUESTED: "{actor} 提交价格审核（{level}：{approvers}）：{reasons}",
    EventKind.APPROVAL_APPROVED: "{actor} 审核通过（{level}）{next}",
    EventKind.APPROVAL_REJECTED: "{actor} 驳回价格（{level}）：{reason}",
    EventKind.APPROVAL_CLEARED: "{actor} 修改价格，无需审核",
    EventKind.PRICES_CHANGED: "{actor} 修改价格：{what}",
    EventKind.PAYMENT_CONFIRMED: "{actor} 确认收款 {amount} 元已到账",
    EventKind.INVOICE_ISSUED: "{actor} 开具发票 {number}，金额 {amount} 元",
    EventKind.INVOICE_VOIDED: "{actor} 作废发票 {number}（{amount} 元）：{reason}",
    EventKind.RELEASED: "下达生产，生产单号 {production_order_number}（{pieces} 件，预计 {expected} 完工）",
    EventKind.PIECE_STARTED: "{actor} 开始生产 {item}（{production_number}）",
    EventKind.PIECE_FINISHED: "{actor} 完工 {item}（{production_number}）",
    EventKind.PIECE_SHIPPED: "{actor} 发货 {item}（{production_number}）",
    EventKind.RESCHEDULE_REQUESTED: "客户申请{job}改期：原定 {booked}，希望 {wanted}{note}",
    EventKind.RESCHEDULE_REQUEST_HANDLED: "{actor} 处理客户的{job}改期申请{result}",
    EventKind.CUSTOMER_LINK_REVOKED: "{actor} 收回客户查看链接（此前发出的链接均已失效）",
    EventKind.CONTACT_ADDED: "客户添加了 {member} 的企业微信（{welcome}）",
    EventKind.CUSTOMER_MESSAGED: "{actor} 群发给客户：{milestone}（待{actor}在企业微信确认）",
    # Service tickets (售后工单)
    EventKind.TICKET_OPENED: "{source}：{kind}工单 {number}（{description}），{deadline} 前处理",
    EventKind.TICKET_DISPATCHED: "{actor} 将{kind}工单 {number} 派给 {worker}，{date} 上门",
    EventKind.TICKET_ACCEPTED: "{actor} 接受{kind}工单 {number}",
    EventKind.TICKET_DECLINED: "{actor} 拒绝{kind}工单 {number}：{reason}",
    EventKind.TICKET_RESCHEDULED: "{actor} 将{kind}工单 {number} 由 {old} 改到 {date}",
    EventKind.TICKET_REASSIGNED: "{actor} 将{kind}工单 {number} 改派给 {worker}（原 {previous}）",
    EventKind.TICKET_PHOTO_ADDED: "{actor} 上传{kind}工单 {number} 的{category}",
    EventKind.TICKET_DONE: "{actor} 完成{kind}工单 {number}（{photos} 张照片）：{resolution}",
    EventKind.TICKET_CONFIRMED: "客户确认{kind}工单 {number} 已完成{how}",
    EventKind.TICKET_CLOSED: "{actor} 办结{kind}工单 {number}：{reason}",
    EventKind.TICKET_CANCELLED: "{actor} 取消{kind}工单 {number}：{reason}",
    EventKind.TICKET_RETURNED: "{worker} 已离职，{kind}工单 {number} 退回售后派单",
}


# The same events for members who do not see money (workflow/privacy.py sees_money: a measurer, the
# warehouse, the factory): that something happened, not the amounts.
WITHOUT_MONEY = {
    EventKind.CONFIRMED: "{actor} 确认客户接受设计",
    EventKind.PAYMENT: "{actor} 登记收款（{kind}）",
    EventKind.PAYMENT_VOIDED: "{actor} 作废一笔收款",
    EventKind.PAYMENT_CORRECTED: "{actor} 更正一笔收款",
    EventKind.PAYMENT_CONFIRMED: "{actor} 确认一笔收款已到账",
    EventKind.INVOICE_ISSUED: "{actor} 开具发票",
    EventKind.INVOICE_VOIDED: "{actor} 作废一张发票",
    EventKind.APPROVAL_REQUESTED: "{actor} 提交价格审核（{level}：{approvers}）",
}


async def record(order: Order, actor: Staff | None, kind: EventKind, /, **payload: Any) -> OrderEvent:
    # Fail at the write, not when someone reads the timeline: the event must read as a sentence.
    EVENT_TEXT[kind].format(actor="", **_readable(payload))
    return await OrderEvent.create(order=order, actor=actor, kind=kind, payload=payload)


def _readable(payload: dict[str, Any]) -> dict[str, Any]:
    payload = dict(payload)
    if "category" in payload:
        with contextlib.suppress(ValueError):
            payload["category"] = AttachmentCategory(payload["category"]).label
    return payload


def describe(event: OrderEvent, actor_name: str, *, with_money: bool = True) -> str:
    template = EVENT_TEXT[event.kind] if with_money else WITHOUT_MONEY.get(event.kind, EVENT_TEXT[event.kind])
    text = template.format(actor=actor_name, **_readable(event.payload))
    return f"{fmt_time(event.created_at)} {text}"


async def timeline(order: Order, *, with_money: bool = True) -> list[str]:
    events = await OrderEvent.filter(order_id=order.id).order_by("id").prefetch_related("actor")
    # Photos come in dozens: one line per run of the same photo event keeps the timeline readable.
    lines: list[str] = []
    last_kind = ""
    for event in events:
        if event.kind == last_kind and event.kind in (
            EventKind.PHOTO_ADDED,
            EventKind.PHOTO_CATEGORIZED,
            EventKind.TICKET_PHOTO_ADDED,
        ):
            continue
        last_kind = event.kind
        lines.append(describe(event, event.actor.name if event.actor else "系统", with_money=with_money))
    return lines
