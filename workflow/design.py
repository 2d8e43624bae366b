"""Design (设计): the designer uploads the design files and marks design done; sales is told."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from infra.storage import StoredFile
from models import Attachment, AttachmentCategory, Order, Staff
from workflow import notify
from workflow.attachments import attach
from workflow.errors import Invalid
from workflow.lifecycle import apply, members_for
from workflow.order_lifecycle import ORDER


async def add_design(*, actor: Staff, order: Order, stored: StoredFile, filename: str) -> Attachment:
    step = ORDER["add_design"]
    await ORDER.check(step, actor, order)
    async with in_transaction():
        design = await attach(order, stored, category=AttachmentCategory.DESIGN, uploader=actor, filename=filename)
        await apply(step, actor=actor, order=order, event={"attachment": design.id, "filename": design.filename})
    return design


async def finish_design(*, actor: Staff, order: Order) -> Order:
    step = ORDER["finish_design"]
    await ORDER.check(step, actor, order)
    files = await Attachment.filter(
        order_id=order.id, category=AttachmentCategory.DESIGN, removed_at__isnull=True
    ).count()
    if not files:
        raise Invalid("还没有上传设计文件")
    async with in_transaction():
        await apply(step, actor=actor, order=order, event={"files": files})
        await notify.designed(order, await members_for(ORDER["confirm"], order), files=files)
    return order
