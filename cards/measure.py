"""Measuring's own cards: the workbench, site photo categories, measured."""

from __future__ import annotations

from typing import Any

from cards.common import button_card, callback_button, row, text_notice, url_button
from cards.keys import CardKind, CardRef, FinishTaskKey, PhotoBatchKey, PhotoCategoryKey, PhotosForTaskKey
from cards.tasks import day_label
from cards.views import OrderView, TaskView
from infra.runtime import Links
from models.enums import SITE_PHOTO_CATEGORIES


def measure_workbench_card(measurer: str, task: TaskView, *, links: Links) -> dict[str, Any]:
    """After accepting: how to send photos, where to upload drawings, and the done button."""
    order = task.order
    return button_card(
        measurer,
        task_id=CardRef(CardKind.MEASURE_BENCH, task.id).new_task_id(),
        title="测量进行中",
        desc=f"订单 {order.number} · {order.customer_name}",
        rows=[row("地址", order.address), row("日期", day_label(task.scheduled_date))],
        quote="现场照片：直接在聊天里发送，每张照片选择分类（水电路/墙地/窗户/其他）。正式图纸与产品调整：点“图纸与产品”。",
        buttons=[
            url_button("图纸与产品", links.oauth(f"/h5/orders/{order.number}/measure")),
            callback_button("照片归入此单", PhotosForTaskKey(task_id=task.id).pack(), style=2),
            callback_button("测量完成", FinishTaskKey(task_id=task.id).pack(), style=1),
        ],
        url=links.oauth(f"/h5/orders/{order.number}/measure"),
    )


def photo_category_card(userid: str, *, attachment_id: int, order: OrderView, count: int) -> dict[str, Any]:
    return button_card(
        userid,
        task_id=CardRef(CardKind.PHOTO, attachment_id).new_task_id(),
        title="照片已保存，请选择分类",
        desc=f"订单 {order.number} · 第 {count} 张",
        buttons=[
            callback_button(c.label, PhotoCategoryKey(attachment_id=attachment_id, category=c.value).pack())
            for c in SITE_PHOTO_CATEGORIES
        ],
    )


def photo_batch_card(
    userid: str, *, task_id: int, first_id: int, last_id: int, photos: int, order: OrderView
) -> dict[str, Any]:
    """Photos sent together: one card sorts them all."""
    return button_card(
        userid,
        task_id=CardRef(CardKind.PHOTO, last_id).new_task_id(),
        title="照片已保存，请选择分类",
        desc=f"订单 {order.number} · 这 {photos} 张一起归类",
        buttons=[
            callback_button(
                c.label,
                PhotoBatchKey(task_id=task_id, first_id=first_id, last_id=last_id, category=c.value).pack(),
            )
            for c in SITE_PHOTO_CATEGORIES
        ],
    )


def measure_done_card(
    to: list[str], order: OrderView, *, photos: int, drawings: int, links: Links, for_designer: bool
) -> dict[str, Any]:
    """To the designers, the design page (the photos and drawings are one tap from it); to sales, the gallery."""
    gallery = links.oauth(f"/h5/orders/{order.number}/gallery")
    design = links.oauth(f"/h5/orders/{order.number}/design")
    return text_notice(
        to,
        task_id=CardRef(CardKind.MEASURED, order.id).new_task_id(),
        title="测量完成",
        desc=f"订单 {order.number} · {order.customer_name}",
        emphasis=(f"{photos} 张照片 · {drawings} 份图纸", "点击上传设计" if for_designer else "已交设计"),
        rows=[row("产品", order.items_text), row("地址", order.address)],
        url=design if for_designer else gallery,
        jumps=[("上传设计", design), ("查看照片与图纸", gallery)] if for_designer else [("查看照片与图纸", gallery)],
    )
