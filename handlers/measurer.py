"""Measurer (测量): answering the task card, site photos from the chat, marking measuring done."""

from __future__ import annotations

from bot.events import ImageMessage
from cards.keys import FinishMeasureKey, PhotoCategoryKey, PhotosForOrderKey, TaskAnswerKey
from cards.measure import photo_category_card
from handlers.router import Ctx, Router
from models import Attachment, AttachmentCategory, Order, Role, Task
from relay.runtime import runtime
from relay.storage import RejectedFile, StoredFile
from workflow.errors import NotFound
from workflow.measure import add_site_photo, answer_measure_task, categorize_photo, finish_measure
from workflow.selectors import active_measure_task, order_view

router = Router("measurer", roles=(Role.MEASURER,))


@router.click(TaskAnswerKey)
async def answer(ctx: Ctx) -> None:
    key = ctx.key
    assert isinstance(key, TaskAnswerKey)
    await answer_measure_task(actor=ctx.staff, task_id=key.task_id, accept=bool(key.accept))
    await ctx.mark_card("已接单" if key.accept else "已拒单")


async def _photo_order(ctx: Ctx) -> Order | None:
    remembered = await runtime().kv.get(f"chat:order:{ctx.staff.userid}")
    if remembered:
        order = await Order.get_or_none(id=int(remembered))
        if order is not None and await active_measure_task(ctx.staff, order):
            return order
    task = await active_measure_task(ctx.staff)
    return await Order.get(id=task.order_id) if task else None


@router.image()
async def site_photo(ctx: Ctx) -> None:
    event = ctx.event
    assert isinstance(event, ImageMessage)
    if isinstance(ctx.prepared, RejectedFile):
        await ctx.reply(f"照片没有保存：{ctx.prepared}")
        return
    order = await _photo_order(ctx)
    if order is None:
        tasks = await Task.filter(assignee_id=ctx.staff.id, state__in=["assigned", "accepted"]).count()
        if tasks:
            await ctx.reply("你有多个测量任务，请先发送“订单 <订单号>”选择订单，再重新发送照片。")
        else:
            await ctx.reply("你当前没有进行中的测量任务，照片没有保存。")
        return
    assert isinstance(ctx.prepared, StoredFile)
    photo = await add_site_photo(actor=ctx.staff, order=order, stored=ctx.prepared, media_id=event.media_id)
    count = (
        await Attachment.filter(order_id=order.id, task_id=photo.task_id)
        .exclude(category=AttachmentCategory.DRAWING)
        .count()
    )
    await ctx.send(
        photo_category_card(ctx.staff.userid, attachment_id=photo.id, order=await order_view(order), count=count)
    )


@router.click(PhotoCategoryKey)
async def photo_category(ctx: Ctx) -> None:
    key = ctx.key
    assert isinstance(key, PhotoCategoryKey)
    try:
        category = AttachmentCategory(key.category)
    except ValueError:
        raise NotFound("未知的照片分类") from None
    await categorize_photo(actor=ctx.staff, attachment_id=key.attachment_id, category=category)
    await ctx.mark_card(f"已归类：{category.label}")


@router.click(FinishMeasureKey)
async def finish(ctx: Ctx) -> None:
    key = ctx.key
    assert isinstance(key, FinishMeasureKey)
    task = await Task.get_or_none(id=key.task_id)
    if task is None:
        raise NotFound("任务不存在")
    order = await Order.get(id=task.order_id)
    await finish_measure(actor=ctx.staff, order=order)
    await ctx.mark_card("测量已完成")


@router.click(PhotosForOrderKey)
async def photos_for(ctx: Ctx) -> None:
    key = ctx.key
    assert isinstance(key, PhotosForOrderKey)
    order = await Order.get_or_none(id=key.order_id)
    if order is None or not await active_measure_task(ctx.staff, order):
        raise NotFound("你没有这个订单的测量任务")
    await runtime().kv.set(f"chat:order:{ctx.staff.userid}", str(order.id), ttl=7 * 86400)
    await ctx.reply(f"接下来发送的照片将归入订单 {order.number}")
