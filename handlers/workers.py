"""Field workers (测量, 安装): answering task cards, photos from the chat, marking the job done."""

from __future__ import annotations

from bot.events import ImageMessage
from cards.keys import FinishTaskKey, PhotoBatchKey, PhotoCategoryKey, PhotosForTaskKey, TaskAnswerKey
from cards.measure import photo_batch_card, photo_category_card
from handlers.router import Ctx, Router
from infra.storage import RejectedFile, StoredFile
from models import Attachment, AttachmentCategory, Order, Task, TaskKind, TaskState
from workflow.chat import photo_batch, photo_task
from workflow.errors import NotFound
from workflow.install import add_install_photo, finish_install, required_photos
from workflow.measure import add_site_photo, categorize_photo, categorize_photos, finish_measure
from workflow.order_lifecycle import ORDER
from workflow.selectors import order_view
from workflow.tasks import PHOTO_STEPS, answer_task, field_task, send_photos_to
from workflow.tickets import add_ticket_photo, photo_ticket

router = Router("workers", roles=ORDER.roles_of(*PHOTO_STEPS.values(), "accept_measure", "accept_install"))


@router.click(TaskAnswerKey)
async def answer(ctx: Ctx, key: TaskAnswerKey) -> None:
    await answer_task(actor=ctx.staff, task_id=key.task_id, accept=bool(key.accept))
    await ctx.mark_card("已接单" if key.accept else "已拒单")


@router.image()
async def photo(ctx: Ctx, event: ImageMessage) -> None:
    if isinstance(ctx.prepared, RejectedFile):
        await ctx.reply(f"照片没有保存：{ctx.prepared.message}")
        return
    held = await photo_ticket(ctx.staff)
    if held is not None and isinstance(ctx.prepared, StoredFile):
        # A service ticket's photo, before or after the work (the ticket's bench card picks which).
        ticket, after = held
        saved, count = await add_ticket_photo(
            actor=ctx.staff, ticket=ticket, stored=ctx.prepared, after=after, media_id=event.media_id
        )
        if await photo_batch(ctx.staff, saved.id) is None:
            return  # more of the batch are coming: one answer for them all
        more = "，可以点“完成”了" if after else "；维修后请先点“发维修后照片”再发送"
        await ctx.reply(f"{'维修后' if after else '维修前'}照片已保存（工单 {ticket.number}，第 {count} 张{more}）")
        return
    task = await photo_task(ctx.staff)
    if task is None:
        if await Task.filter(assignee_id=ctx.staff.id, state=TaskState.ACCEPTED).exists():
            await ctx.reply("你有多个进行中的任务：请先在任务卡片上点“照片归入此单”，再重新发送照片。")
        else:
            await ctx.reply("你当前没有进行中的测量或安装任务，照片没有保存。")
        return
    if not isinstance(ctx.prepared, StoredFile):
        return  # nothing was fetched: not a member who sends photos (prepare checked the roles)
    order = await Order.get(id=task.order_id)
    if task.kind == TaskKind.INSTALL:
        saved = await add_install_photo(actor=ctx.staff, order=order, stored=ctx.prepared, media_id=event.media_id)
        if await photo_batch(ctx.staff, saved.id) is None:
            return  # more of the batch are coming: one answer for them all
        count = await Attachment.filter(
            task_id=task.id, category=AttachmentCategory.INSTALL, removed_at__isnull=True
        ).count()
        needed = await required_photos(order)
        more = f"，还需 {needed - count} 张" if count < needed else "，可以点“安装完成”了"
        await ctx.reply(f"安装照片已保存（订单 {order.number}，第 {count} 张{more}）")
        return
    saved = await add_site_photo(actor=ctx.staff, order=order, stored=ctx.prepared, media_id=event.media_id)
    first = await photo_batch(ctx.staff, saved.id)
    if first is None:
        return  # more of the batch are coming: one card for them all
    view = await order_view(order)
    if first != saved.id:
        photos = await Attachment.filter(
            task_id=task.id, uploader_id=ctx.staff.id, category=AttachmentCategory.UNSORTED, id__gte=first
        ).count()
        card = photo_batch_card(
            ctx.staff.userid, task_id=task.id, first_id=first, last_id=saved.id, photos=photos, order=view
        )
        await ctx.send(card)
        return
    count = (
        await Attachment.filter(task_id=task.id, removed_at__isnull=True)
        .exclude(category__in=[AttachmentCategory.DRAWING, AttachmentCategory.PAPER_ORDER])
        .count()
    )
    await ctx.send(photo_category_card(ctx.staff.userid, attachment_id=saved.id, order=view, count=count))


@router.click(PhotoCategoryKey)
async def photo_category(ctx: Ctx, key: PhotoCategoryKey) -> None:
    try:
        category = AttachmentCategory(key.category)
    except ValueError:
        raise NotFound("未知的照片分类") from None
    await categorize_photo(actor=ctx.staff, attachment_id=key.attachment_id, category=category)
    await ctx.mark_card(f"已归类：{category.label}")


@router.click(PhotoBatchKey)
async def photo_batch_category(ctx: Ctx, key: PhotoBatchKey) -> None:
    try:
        category = AttachmentCategory(key.category)
    except ValueError:
        raise NotFound("未知的照片分类") from None
    photos = await categorize_photos(
        actor=ctx.staff, task_id=key.task_id, first_id=key.first_id, last_id=key.last_id, category=category
    )
    await ctx.mark_card(f"{len(photos)} 张已归类：{category.label}")


@router.click(FinishTaskKey)
async def finish(ctx: Ctx, key: FinishTaskKey) -> None:
    _, task, order = await field_task(key.task_id)
    if task.kind == TaskKind.INSTALL:
        await finish_install(actor=ctx.staff, order=order)
        await ctx.mark_card("安装已完成")
    else:
        await finish_measure(actor=ctx.staff, order=order)
        await ctx.mark_card("测量已完成")


@router.click(PhotosForTaskKey)
async def photos_for(ctx: Ctx, key: PhotosForTaskKey) -> None:
    task, order = await send_photos_to(actor=ctx.staff, task_id=key.task_id)
    await ctx.reply(f"接下来发送的照片将归入订单 {order.number}（{task.kind.label}）")
