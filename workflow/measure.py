"""Measuring: dispatch (测量派单), the measurer's answer, site photos, drawings, products, done (测量完成)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tortoise.transactions import in_transaction

from bot.outbox import enqueue_card_update, enqueue_message
from cards.keys import card_task_prefix
from cards.measure import (
    measure_booked_card,
    measure_done_card,
    measure_task_card,
    measure_workbench_card,
    new_order_card,
)
from models import (
    Attachment,
    AttachmentCategory,
    Order,
    OrderEvent,
    OrderItem,
    OrderState,
    OutboxMessage,
    Product,
    Role,
    Staff,
    Task,
    TaskKind,
    TaskState,
)
from models.enums import OPEN_TASK_STATES, SITE_PHOTO_CATEGORIES, OutboxKind
from relay.runtime import runtime
from relay.storage import StoredFile
from relay.timeutil import local_today
from workflow import timeline
from workflow.errors import Conflict, Invalid, NotAllowed, NotFound
from workflow.scope import covers, require_role, staff_covering, staff_within
from workflow.selectors import attachment_counts, measure_tasks_on, order_view, task_view


@dataclass(frozen=True)
class Suggestion:
    staff: Staff
    day: date
    tasks_that_day: int


async def measurer_candidates(dispatcher: Staff) -> list[Staff]:
    return await staff_within(dispatcher.org_unit_id, Role.MEASURER)


async def rank_measurers(*, dispatcher: Staff, day: date) -> list[Suggestion]:
    """Free that day first, then fewest tasks that day, then best after-sales score."""
    candidates = await measurer_candidates(dispatcher)
    counts = await measure_tasks_on([c.id for c in candidates], day)
    ranked = [Suggestion(c, day, counts.get(c.id, 0)) for c in candidates]
    ranked.sort(key=lambda s: (s.tasks_that_day > 0, s.tasks_that_day, -(s.staff.score or 0.0), s.staff.name))
    limit = runtime().config.schedule.daily_task_limit
    return [s for s in ranked if s.tasks_that_day < limit] or ranked


async def suggest_measurer(*, order: Order, day: date, dispatcher: Staff) -> Suggestion | None:
    ranked = await rank_measurers(dispatcher=dispatcher, day=day)
    return ranked[0] if ranked else None


async def notify_measure_dispatchers(order: Order, *, reason: str = "", note: str = "") -> None:
    dispatchers = await staff_covering(order, Role.MEASURE_DISPATCHER)
    if not dispatchers:
        return
    view = await order_view(order)
    day = max(order.expected_measure_date or local_today(), local_today())
    suggestion = await suggest_measurer(order=order, day=day, dispatcher=dispatchers[0])
    await enqueue_message(
        new_order_card(
            [d.userid for d in dispatchers],
            view,
            suggestion=(suggestion.staff.id, suggestion.staff.name, suggestion.day) if suggestion else None,
            links=runtime().links,
            reason=reason,
            note=note,
        )
    )


async def _who_dispatched(order: Order) -> Conflict:
    event = (
        await OrderEvent.filter(order_id=order.id, kind="measure_dispatched")
        .order_by("-id")
        .prefetch_related("actor")
        .first()
    )
    if event is None or event.actor is None:
        return Conflict(f"订单 {order.number} 当前状态：{order.state.label}", order.state.label)
    return Conflict(
        f"订单 {order.number} 已由 {event.actor.name} 派给 {event.payload.get('measurer', '')}",
        f"已由{event.actor.name}派单",
    )


async def dispatch_measure(*, actor: Staff, order: Order, measurer_id: int, day: date) -> Task:
    """Assign the measuring. Of two dispatchers tapping at once, one wins; the other is told who did."""
    require_role(actor, Role.MEASURE_DISPATCHER)
    if not await covers(actor, order):
        raise NotAllowed(f"订单 {order.number} 不在你负责的范围内")
    if day < local_today():
        raise Invalid("测量日期不能早于今天", "date")
    measurer = await Staff.get_or_none(id=measurer_id, active=True)
    if measurer is None or not measurer.has_role(Role.MEASURER):
        raise Invalid("所选人员不是测量员", "measurer")
    if measurer.id not in {m.id for m in await measurer_candidates(actor)}:
        raise NotAllowed(f"{measurer.name} 不在你负责的测量团队中")
    async with in_transaction():
        # The conditional update is the race: exactly one dispatcher moves the order out of `created`.
        moved = await Order.filter(id=order.id, state=OrderState.CREATED).update(state=OrderState.MEASURE_SCHEDULED)
        if not moved:
            await order.refresh_from_db()
            raise await _who_dispatched(order)
        task = await Task.create(
            order=order, kind=TaskKind.MEASURE, assignee=measurer, assigned_by=actor, scheduled_date=day
        )
        await timeline.record(order, actor, "measure_dispatched", measurer=measurer.name, date=day.isoformat())
        links = runtime().links
        view = await task_view(task)
        await enqueue_message(measure_task_card(measurer.userid, view, links=links))
        sales = await Staff.get(id=order.sales_id)
        await enqueue_message(
            measure_booked_card(sales.userid, view.order, measurer_name=measurer.name, day=day, links=links)
        )
        await _close_new_order_cards(order, f"已派给{measurer.name}（{actor.name}）")
    return task


async def _close_new_order_cards(order: Order, label: str) -> None:
    """Every dispatcher's copy of the new-order card shows who took it."""
    cards = await OutboxMessage.filter(
        kind=OutboxKind.SEND, card_task_id__startswith=card_task_prefix("neworder", order.id)
    ).values_list("card_task_id", "payload")
    for task_id, payload in cards:
        userids = str(payload.get("touser", "")).split("|")
        await enqueue_card_update(userids=userids, card_task_id=task_id, replace_name=label)


async def _assigned_task(actor: Staff, task_id: int, kind: TaskKind = TaskKind.MEASURE) -> Task:
    task = await Task.get_or_none(id=task_id, kind=kind)
    if task is None:
        raise NotFound("任务不存在")
    if task.assignee_id != actor.id:
        raise NotAllowed("这不是你的任务")
    return task


async def answer_measure_task(*, actor: Staff, task_id: int, accept: bool, reason: str = "") -> Task:
    require_role(actor, Role.MEASURER)
    task = await _assigned_task(actor, task_id)
    async with in_transaction():
        new_state = TaskState.ACCEPTED if accept else TaskState.DECLINED
        moved = await Task.filter(id=task.id, state=TaskState.ASSIGNED).update(
            state=new_state, decline_reason="" if accept else reason[:255]
        )
        if not moved:
            await task.refresh_from_db()
            raise Conflict(f"这个任务已经{task.state.label}", f"任务{task.state.label}")
        order = await Order.get(id=task.order_id)
        await task.refresh_from_db()
        if accept:
            await timeline.record(order, actor, "measure_accepted")
            await enqueue_message(measure_workbench_card(actor.userid, await task_view(task), links=runtime().links))
            await runtime().kv.set(f"chat:order:{actor.userid}", str(order.id), ttl=7 * 86400)
        else:
            await Order.filter(id=order.id, state=OrderState.MEASURE_SCHEDULED).update(state=OrderState.CREATED)
            await order.refresh_from_db()
            await timeline.record(order, actor, "measure_declined", reason=reason or "未说明")
            await notify_measure_dispatchers(
                order, reason="测量被拒，请重新派单", note=f"{actor.name} 拒单：{reason or '未说明原因'}"
            )
    return task


async def _open_measure_task(actor: Staff, order: Order) -> Task:
    task = await Task.filter(
        order_id=order.id, kind=TaskKind.MEASURE, assignee_id=actor.id, state__in=list(OPEN_TASK_STATES)
    ).first()
    if task is None:
        raise NotAllowed(f"你没有订单 {order.number} 的测量任务")
    return task


async def add_site_photo(*, actor: Staff, order: Order, stored: StoredFile, media_id: str | None) -> Attachment:
    require_role(actor, Role.MEASURER)
    task = await _open_measure_task(actor, order)
    if media_id:
        existing = await Attachment.get_or_none(media_id=media_id)
        if existing is not None:
            return existing
    async with in_transaction():
        photo = await Attachment.create(
            order=order,
            task=task,
            category=AttachmentCategory.UNSORTED,
            sha256=stored.sha256,
            content_type=stored.content_type,
            size=stored.size,
            filename="现场照片",
            has_thumbnail=stored.has_thumbnail,
            uploader=actor,
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
    filename = (filename or "图纸").strip()[:200]
    async with in_transaction():
        drawing = await Attachment.create(
            order=order,
            task=task,
            category=AttachmentCategory.DRAWING,
            sha256=stored.sha256,
            content_type=stored.content_type,
            size=stored.size,
            filename=filename,
            has_thumbnail=stored.has_thumbnail,
            uploader=actor,
        )
        await timeline.record(order, actor, "drawing_added", attachment=drawing.id, filename=filename)
    return drawing


@dataclass(frozen=True)
class ItemChange:
    """One line after the measurer's adjustment. product_id None keeps a line's series/model as typed."""

    room: str
    product_id: int
    quantity: int = 1


async def adjust_items(*, actor: Staff, order: Order, items: list[ItemChange]) -> list[OrderItem]:
    """The measurer corrects series/model and which room each product goes to."""
    require_role(actor, Role.MEASURER)
    await _open_measure_task(actor, order)
    if not items:
        raise Invalid("请至少保留一件产品", "items")
    products = {p.id: p for p in await Product.filter(id__in=[i.product_id for i in items], active=True)}
    for item in items:
        if item.product_id not in products:
            raise Invalid("所选产品不存在或已下架", "items")
        if not 1 <= item.quantity <= 99:
            raise Invalid("产品数量应在 1 到 99 之间", "items")
        if len(item.room.strip()) > 64:
            raise Invalid("房间名称最多 64 字", "items")
    async with in_transaction():
        before = [f"{i.room} {i.series} {i.model}×{i.quantity}" for i in await OrderItem.filter(order_id=order.id)]
        await OrderItem.filter(order_id=order.id).delete()
        created = []
        for item in items:
            product = products[item.product_id]
            created.append(
                await OrderItem.create(
                    order=order,
                    product=product,
                    series=product.series,
                    model=product.model,
                    room=item.room.strip(),
                    quantity=item.quantity,
                )
            )
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
        moved = await Order.filter(id=order.id, state=OrderState.MEASURE_SCHEDULED).update(state=OrderState.MEASURED)
        if not moved:
            await order.refresh_from_db()
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
        await runtime().kv.delete(f"chat:order:{actor.userid}", if_value=str(order.id))
    return order
