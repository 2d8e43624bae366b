"""Installing's own steps: result photos, done (安装完成), the after-sales visit task."""

from __future__ import annotations

from typing import cast

from tortoise.transactions import in_transaction

from infra.storage import StoredFile
from infra.timeutil import local_today, utcnow
from models import Attachment, AttachmentCategory, Order, OrderItem, Product, Staff, Task, TaskKind
from models.enums import OPEN_TASK_STATES, TaskState
from workflow import notify
from workflow.aftersales import schedule_maintenance
from workflow.attachments import attach
from workflow.chat import PHOTOS, chat
from workflow.errors import Conflict, Invalid
from workflow.lifecycle import apply, members_for
from workflow.measure import not_accepted
from workflow.order_lifecycle import ORDER
from workflow.production import pieces_installed
from workflow.signing import signing_url


async def required_photos(order: Order) -> int:
    """The most any of the order's product series asks for (set per series in the catalogue)."""
    product_ids = await OrderItem.filter(order_id=order.id, product_id__isnull=False).values_list(
        "product_id", flat=True
    )
    minimums = await Product.filter(id__in=list(product_ids)).values_list("install_photo_min", flat=True)
    return max([cast(int, m) for m in minimums] or [1])


async def add_install_photo(*, actor: Staff, order: Order, stored: StoredFile, media_id: str | None) -> Attachment:
    step = ORDER["add_install_photo"]
    task = await ORDER.check(step, actor, order)
    if media_id and (existing := await Attachment.get_or_none(media_id=media_id)) is not None:
        return existing  # the same chat photo handled again
    async with in_transaction():
        photo = await attach(
            order, stored, category=AttachmentCategory.INSTALL, uploader=actor, task=task, media_id=media_id
        )
        await apply(step, actor=actor, order=order, event={"attachment": photo.id})
    return photo


async def finish_install(*, actor: Staff, order: Order) -> Order:
    step = ORDER["finish_install"]
    try:
        task = await ORDER.check(step, actor, order)
    except Conflict as refused:
        raise not_accepted(refused, "安装") from None
    assert task is not None
    photos = await Attachment.filter(
        order_id=order.id, task_id=task.id, category=AttachmentCategory.INSTALL, removed_at__isnull=True
    ).count()
    needed = await required_photos(order)
    if photos < needed:
        raise Invalid(f"安装照片不足：至少需要 {needed} 张，已上传 {photos} 张")
    async with in_transaction():
        await apply(step, actor=actor, order=order, task=task, event={"photos": photos})
        await notify.installed(order, actor, photos=photos, sign_url=signing_url(order))
        await create_visit_task(order, installer=actor)
        await chat().clear(PHOTOS, actor.userid, only=task.id)
        await pieces_installed(order)
        # Maintenance from the installation date, whether or not the visit reaches the customer.
        await schedule_maintenance(order, since=order.installed_at or utcnow())
    return order


async def create_visit_task(order: Order, *, installer: Staff) -> Task | None:
    """After-sales gets the visit: the member covering the order with the fewest open visits."""
    callers = await members_for(ORDER["visit"], order)
    if not callers:
        return None
    load = {
        c.id: await Task.filter(assignee_id=c.id, kind=TaskKind.VISIT, state__in=list(OPEN_TASK_STATES)).count()
        for c in callers
    }
    caller = min(callers, key=lambda c: (load[c.id], c.name))
    task = await Task.create(
        order=order, kind=TaskKind.VISIT, assignee=caller, state=TaskState.ACCEPTED, scheduled_date=local_today()
    )
    await notify.visit_assigned(caller, order, installer=installer)
    return task
