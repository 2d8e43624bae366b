"""Measuring's own steps: site photos, drawings, products and rooms, done (测量完成). Dispatch is in tasks."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from bot.outbox import enqueue_message
from cards.measure import measure_done_card
from infra.runtime import runtime
from infra.storage import StoredFile
from models import (
    Attachment,
    AttachmentCategory,
    Order,
    OrderItem,
    OrderState,
    Role,
    Staff,
    Task,
    TaskKind,
    TaskState,
)
from models.enums import SITE_PHOTO_CATEGORIES
from workflow import timeline
from workflow.attachments import attach
from workflow.errors import Conflict, Invalid, NotAllowed, NotFound
from workflow.items import ItemInput, check_items, write_items
from workflow.scope import require_role, staff_covering
from workflow.selectors import attachment_counts, order_view
from workflow.tasks import chat_task_key, open_task
from workflow.transitions import move


async def _open_measure_task(actor: Staff, order: Order) -> Task:
    return await open_task(actor, order, TaskKind.MEASURE)


async def add_site_photo(*, actor: Staff, order: Order, stored: StoredFile, media_id: str | None) -> Attachment:
    require_role(actor, Role.MEASURER)
    task = await _open_measure_task(actor, order)
    if media_id and (existing := await Attachment.get_or_none(media_id=media_id)) is not None:
        return existing  # the same chat photo handled again
    async with in_transaction():
        photo = await attach(
            order,
            stored,
            category=AttachmentCategory.UNSORTED,
            uploader=actor,
            filename="现场照片",
            task=task,
            media_id=media_id,
        )
        await timeline.record(order, actor, "photo_added", attachment=photo.id)
    return photo


async def categorize_photo(*, actor: Staff, attachment_id: int, category: AttachmentCategory) -> Attachment:
    if category not in SITE_PHOTO_CATEGORIES:
        raise Invalid("照片分类只能是水电路、墙地、窗户或其他")
    photo = await Attachment.get_or_none(id=attachment_id)
    if photo is None:
        raise NotFound("照片不存在")
    if photo.uploader_id != actor.id:
        raise NotAllowed("只能给自己上传的照片分类")
    order = await Order.get(id=photo.order_id)
    if order.state != OrderState.MEASURE_SCHEDULED:
        raise Conflict(f"订单 {order.number} 已{order.state.label}，照片不能再修改")
    async with in_transaction():
        await Attachment.filter(id=photo.id).update(category=category)
        await timeline.record(order, actor, "photo_categorized", attachment=photo.id, category=category.value)
    await photo.refresh_from_db()
    return photo


async def add_drawing(*, actor: Staff, order: Order, stored: StoredFile, filename: str) -> Attachment:
    require_role(actor, Role.MEASURER)
    task = await _open_measure_task(actor, order)
    async with in_transaction():
        drawing = await attach(
            order, stored, category=AttachmentCategory.DRAWING, uploader=actor, filename=filename, task=task
        )
        await timeline.record(order, actor, "drawing_added", attachment=drawing.id, filename=drawing.filename)
    return drawing


async def adjust_items(*, actor: Staff, order: Order, items: list[ItemInput]) -> list[OrderItem]:
    """The measurer corrects series/model and which room each product goes to."""
    require_role(actor, Role.MEASURER)
    await _open_measure_task(actor, order)
    products = await check_items(items)
    async with in_transaction():
        before = [f"{i.room} {i.series} {i.model}×{i.quantity}" for i in await OrderItem.filter(order_id=order.id)]
        created = await write_items(order, items, products)
        after = [f"{i.room} {i.series} {i.model}×{i.quantity}" for i in created]
        await timeline.record(order, actor, "items_adjusted", before=before, after=after)
    return created


async def finish_measure(*, actor: Staff, order: Order) -> Order:
    require_role(actor, Role.MEASURER)
    task = await _open_measure_task(actor, order)
    if task.state != TaskState.ACCEPTED:
        raise Conflict("请先接单，再标记测量完成")
    photos, unsorted, drawings = await attachment_counts(order)
    if unsorted:
        raise Invalid(f"还有 {unsorted} 张照片没有选择分类")
    if photos == 0:
        raise Invalid("还没有现场照片：请在聊天中发送现场照片后再标记完成")
    async with in_transaction():
        if not await move(order, to=OrderState.MEASURED, expected=OrderState.MEASURE_SCHEDULED):
            raise Conflict(f"订单 {order.number} 当前状态：{order.state.label}")
        await Task.filter(id=task.id).update(state=TaskState.DONE)
        await order.refresh_from_db()
        await timeline.record(order, actor, "measured", photos=photos, drawings=drawings)
        view = await order_view(order)
        links = runtime().links
        designers = [d.userid for d in await staff_covering(order, Role.DESIGNER)]
        if designers:
            await enqueue_message(
                measure_done_card(designers, view, photos=photos, drawings=drawings, links=links, for_designer=True)
            )
        sales = await Staff.get(id=order.sales_id)
        await enqueue_message(
            measure_done_card([sales.userid], view, photos=photos, drawings=drawings, links=links, for_designer=False)
        )
        await runtime().kv.delete(chat_task_key(actor.userid), if_value=str(task.id))
    return order
