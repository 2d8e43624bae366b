"""Cards of the first third of an order's life: new order, measuring task, site photos, measured."""

from __future__ import annotations

from datetime import date
from typing import Any

from cards.common import button_card, callback_button, row, text_notice, url_button
from cards.keys import (
    DispatchMeasureKey,
    FinishMeasureKey,
    PhotoCategoryKey,
    TaskAnswerKey,
    card_task_id,
)
from cards.views import OrderView, TaskView
from models.enums import SITE_PHOTO_CATEGORIES
from relay.runtime import Links


def _day(d: date | None) -> str:
    return d.strftime("%m月%d日") if d else "未定"


def new_order_card(
    dispatchers: list[str],
    order: OrderView,
    *,
    suggestion: tuple[int, str, date] | None,
    links: Links,
    reason: str = "",
    note: str = "",
) -> dict[str, Any]:
    """To the measure dispatchers: a new order (or a declined one) waiting for a measurer."""
    buttons = []
    if suggestion is not None:
        measurer_id, name, day = suggestion
        key = DispatchMeasureKey(order_id=order.id, measurer_id=measurer_id, date=day.isoformat())
        buttons.append(callback_button(f"派给{name}·{_day(day)}", key.pack()))
    dispatch_url = links.oauth(f"/h5/orders/{order.number}/dispatch")
    buttons.append(url_button("选择测量员/改日期", dispatch_url))
    return button_card(
        dispatchers,
        task_id=card_task_id("neworder", order.id),
        title=reason or "新订单待派测量",
        desc=f"订单 {order.number} · {order.customer_name}",
        rows=[
            row("期望测量", _day(order.expected_measure_date)),
            row("地址", order.address),
            row("电话", order.phone),
            row("产品", order.items_text),
            row("销售", order.sales_name),
        ],
        buttons=buttons,
        url=links.oauth(f"/h5/orders/{order.number}"),
        quote=note or None,
    )


def measure_task_card(measurer: str, task: TaskView, *, links: Links) -> dict[str, Any]:
    order = task.order
    return button_card(
        measurer,
        task_id=card_task_id("measure", task.id),
        title="新测量任务",
        desc=f"订单 {order.number} · {_day(task.scheduled_date)}上门",
        rows=[
            row("客户", order.customer_name),
            row("电话", order.phone),
            row("地址", order.address),
            row("产品", order.items_text),
        ],
        buttons=[
            callback_button("接单", TaskAnswerKey(task_id=task.id, accept=1).pack(), style=1),
            callback_button("拒单", TaskAnswerKey(task_id=task.id, accept=0).pack(), style=3),
        ],
        url=links.oauth(f"/h5/orders/{order.number}"),
        quote="上门前请再次与客户确认时间",
    )


def measure_workbench_card(measurer: str, task: TaskView, *, links: Links) -> dict[str, Any]:
    """After accepting: how to send photos, where to upload drawings, and the done button."""
    order = task.order
    return button_card(
        measurer,
        task_id=card_task_id("workbench", task.id),
        title="测量进行中",
        desc=f"订单 {order.number} · {order.customer_name}",
        rows=[row("地址", order.address), row("日期", _day(task.scheduled_date))],
        quote="现场照片：直接在聊天里发送，每张照片选择分类（水电路/墙地/窗户/其他）。正式图纸与产品调整：点“图纸与产品”。",
        buttons=[
            url_button("图纸与产品", links.oauth(f"/h5/orders/{order.number}/measure")),
            callback_button("测量完成", FinishMeasureKey(task_id=task.id).pack(), style=1),
        ],
        url=links.oauth(f"/h5/orders/{order.number}/measure"),
    )


def photo_category_card(userid: str, *, attachment_id: int, order: OrderView, count: int) -> dict[str, Any]:
    return button_card(
        userid,
        task_id=card_task_id("photo", attachment_id),
        title="照片已保存，请选择分类",
        desc=f"订单 {order.number} · 第 {count} 张",
        buttons=[
            callback_button(c.label, PhotoCategoryKey(attachment_id=attachment_id, category=c.value).pack())
            for c in SITE_PHOTO_CATEGORIES
        ],
    )


def measure_booked_card(sales: str, order: OrderView, *, measurer_name: str, day: date, links: Links) -> dict[str, Any]:
    return text_notice(
        sales,
        task_id=card_task_id("booked", order.id),
        title="已预约测量",
        desc=f"订单 {order.number} · {order.customer_name}",
        emphasis=(_day(day), f"测量员 {measurer_name}"),
        rows=[row("地址", order.address)],
        url=links.oauth(f"/h5/orders/{order.number}"),
    )


def measure_done_card(
    to: list[str], order: OrderView, *, photos: int, drawings: int, links: Links, for_designer: bool
) -> dict[str, Any]:
    gallery = links.oauth(f"/h5/orders/{order.number}/gallery")
    return text_notice(
        to,
        task_id=card_task_id("measured", order.id),
        title="测量完成",
        desc=f"订单 {order.number} · {order.customer_name}",
        emphasis=(f"{photos} 张照片 · {drawings} 份图纸", "点击查看全部照片与图纸" if for_designer else "已交设计"),
        rows=[row("产品", order.items_text), row("地址", order.address)],
        url=gallery,
        jumps=[("查看照片与图纸", gallery)],
    )
