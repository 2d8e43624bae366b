"""Measuring's own steps: site photos, drawings, products and rooms, done (测量完成). Dispatch is in tasks."""

from __future__ import annotations

from dataclasses import replace

from tortoise.transactions import in_transaction

from infra.storage import StoredFile
from models import (
    Attachment,
    AttachmentCategory,
    Order,
    OrderItem,
    Staff,
    TaskState,
)
from models.enums import SITE_PHOTO_CATEGORIES
from workflow import notify
from workflow.approval import review_prices
from workflow.attachments import attach
from workflow.chat import PHOTOS, chat
from workflow.errors import Conflict, Invalid, NotAllowed, NotFound
from workflow.items import ItemInput, check_items, priced_lines, write_items
from workflow.lifecycle import apply, members_for
from workflow.order_lifecycle import ORDER
from workflow.pricing import LinePrice, prices_for_order, store_totals, totals
from workflow.selectors import attachment_counts


async def add_site_photo(*, actor: Staff, order: Order, stored: StoredFile, media_id: str | None) -> Attachment:
    step = ORDER["add_site_photo"]
    task = await ORDER.check(step, actor, order)
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
        await apply(step, actor=actor, order=order, event={"attachment": photo.id})
    return photo


async def categorize_photo(*, actor: Staff, attachment_id: int, category: AttachmentCategory) -> Attachment:
    if category not in SITE_PHOTO_CATEGORIES:
        raise Invalid("照片分类只能是水电路、墙地、窗户或其他")
    photo = await Attachment.get_or_none(id=attachment_id)
    if photo is None:
        raise NotFound("照片不存在")
    order = await Order.get(id=photo.order_id)
    step = ORDER["categorize_photo"]
    await ORDER.check(step, actor, order)
    if photo.uploader_id != actor.id:
        raise NotAllowed("只能给自己上传的照片分类")
    async with in_transaction():
        await Attachment.filter(id=photo.id).update(category=category)
        await apply(step, actor=actor, order=order, event={"attachment": photo.id, "category": category.value})
    await photo.refresh_from_db()
    return photo


async def categorize_photos(
    *, actor: Staff, task_id: int, first_id: int, last_id: int, category: AttachmentCategory
) -> list[Attachment]:
    """A batch of photos sent together, sorted at once: the actor's still unsorted photos of the job."""
    if category not in SITE_PHOTO_CATEGORIES:
        raise Invalid("照片分类只能是水电路、墙地、窗户或其他")
    photos = await Attachment.filter(
        task_id=task_id, uploader_id=actor.id, id__gte=first_id, id__lte=last_id, category=AttachmentCategory.UNSORTED
    ).order_by("id")
    if not photos:
        raise NotFound("这些照片都已分类")
    order = await Order.get(id=photos[0].order_id)
    step = ORDER["categorize_photo"]
    await ORDER.check(step, actor, order)
    ids = [p.id for p in photos]
    async with in_transaction():
        await Attachment.filter(id__in=ids).update(category=category)
        await apply(
            step, actor=actor, order=order, event={"attachment": ids[-1], "photos": ids, "category": category.value}
        )
    return photos


async def add_drawing(*, actor: Staff, order: Order, stored: StoredFile, filename: str) -> Attachment:
    step = ORDER["add_drawing"]
    task = await ORDER.check(step, actor, order)
    async with in_transaction():
        drawing = await attach(
            order, stored, category=AttachmentCategory.DRAWING, uploader=actor, filename=filename, task=task
        )
        await apply(step, actor=actor, order=order, event={"attachment": drawing.id, "filename": drawing.filename})
    return drawing


async def adjust_items(*, actor: Staff, order: Order, items: list[ItemInput]) -> list[OrderItem]:
    """The measurer corrects series/model and which room each product goes to. A product the order
    already had keeps the unit price agreed at sale; a new one takes its price for the order's store
    and date. The order's discount stays (at most the new lines' sum) and the contract follows."""
    step = ORDER["adjust_items"]
    await ORDER.check(step, actor, order)
    before_rows = await OrderItem.filter(order_id=order.id).order_by("id")
    products = await check_items(items, kept=frozenset(i.product_id for i in before_rows if i.product_id))
    agreed = {i.product_id: i.unit_price for i in reversed(before_rows) if i.unit_price is not None}
    items = [
        replace(i, price=LinePrice(unit_price=agreed[i.product_id])) if i.product_id in agreed else i for i in items
    ]
    lines = priced_lines(items, products, await prices_for_order(order, products))
    sums = totals(lines, None)
    discount = min(order.discount_amount, sums.lines_amount) if sums.priced and sums.lines_amount is not None else None
    async with in_transaction():
        before = [f"{i.room} {i.series} {i.model}×{i.quantity}" for i in before_rows]
        created = await write_items(order, lines)
        await store_totals(order, created, discount)
        after = [f"{i.room} {i.series} {i.model}×{i.quantity}" for i in created]
        await apply(step, actor=actor, order=order, event={"before": before, "after": after})
        await review_prices(actor=actor, order=order, after_confirmation=False)
    return created


async def finish_measure(*, actor: Staff, order: Order) -> Order:
    step = ORDER["finish_measure"]
    try:
        task = await ORDER.check(step, actor, order)
    except Conflict as refused:
        raise not_accepted(refused, "测量") from None
    photos, unsorted, drawings = await attachment_counts(order)
    if unsorted:
        raise Invalid(f"还有 {unsorted} 张照片没有选择分类")
    if photos == 0:
        raise Invalid("还没有现场照片：请在聊天中发送现场照片后再标记完成")
    async with in_transaction():
        await apply(step, actor=actor, order=order, task=task, event={"photos": photos, "drawings": drawings})
        designers = await members_for(ORDER["finish_design"], order)
        await notify.measured(order, designers, photos=photos, drawings=drawings)
        if task is not None:
            await chat().clear(PHOTOS, actor.userid, only=task.id)
    return order


def not_accepted(refused: Conflict, job: str) -> Conflict:
    """Finishing a job not yet accepted: say what to do rather than the job's state."""
    if refused.short == f"任务{TaskState.ASSIGNED.label}":
        return Conflict(f"请先接单，再标记{job}完成", refused.short)
    return refused
