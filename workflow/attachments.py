"""Attaching a stored file to an order: the one place an Attachment row is made, and the one place
a wrong upload is removed (kept as 已删除: off galleries, counts and the zip, still on the timeline)."""

from __future__ import annotations

import re
import unicodedata

from tortoise.transactions import in_transaction

from infra.storage import StoredFile
from infra.timeutil import utcnow
from models import Attachment, AttachmentCategory, EventKind, Order, Role, Staff, Task
from workflow import notify, timeline
from workflow.errors import Conflict, Invalid, NotAllowed, NotFound
from workflow.scope import can_see, covers


def file_name(uploaded: str, fallback: str) -> str:
    """The name a file is kept and offered under: the last part of whatever path the client sent
    ("../../x.pdf" is "x.pdf"), with no control characters, no leading dots, at most 200 characters."""
    name = re.split(r"[\\/]", uploaded)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().lstrip(".").strip()
    return name[:200] or fallback


async def attach(
    order: Order,
    stored: StoredFile,
    *,
    category: AttachmentCategory,
    uploader: Staff | None,
    filename: str = "",
    task: Task | None = None,
    media_id: str | None = None,
    ticket_id: int | None = None,
) -> Attachment:
    return await Attachment.create(
        order=order,
        task=task,
        ticket_id=ticket_id,
        category=category,
        sha256=stored.sha256,
        content_type=stored.content_type,
        size=stored.size,
        filename=file_name(filename, category.label),
        has_thumbnail=stored.has_thumbnail,
        uploader=uploader,
        media_id=media_id,
    )


# The customer's signature is evidence, not an upload: it is never removed.
KEPT = (AttachmentCategory.SIGNATURE,)


async def removal_refused(actor: Staff, attachment: Attachment, order: Order) -> str | None:
    """Why this member may not remove the file, or None: the one rule the gallery's buttons and the
    removal both follow. The uploader may, and a manager over the order."""
    if attachment.category in KEPT:
        return "客户签字不能删除"
    if attachment.uploader_id == actor.id and await can_see(actor, order):
        return None
    if actor.has_role(Role.MANAGER) and await covers(actor, order):
        return None
    return "只有上传人或管理层可以删除这个文件"


async def remove_upload(*, actor: Staff, order: Order, attachment_id: int, reason: str) -> Attachment:
    """A wrong upload removed: the row and the file stay (the timeline names it), marked 已删除."""
    attachment = await Attachment.get_or_none(id=attachment_id, order_id=order.id)
    if attachment is None:
        raise NotFound("文件不存在")
    if refused := await removal_refused(actor, attachment, order):
        raise NotAllowed(refused)
    if attachment.removed_at is not None:
        raise Conflict("这个文件已删除", "已删除")
    reason = reason.strip()
    if not reason:
        raise Invalid("请填写删除原因", "reason")
    async with in_transaction():
        moved = await Attachment.filter(id=attachment.id, removed_at__isnull=True).update(
            removed_at=utcnow(), removed_by_id=actor.id, remove_reason=reason[:255]
        )
        if not moved:
            raise Conflict("这个文件已删除", "已删除")
        name = attachment.filename or attachment.category.label
        await timeline.record(
            order, actor, EventKind.UPLOAD_REMOVED, category=attachment.category.value, filename=name, reason=reason
        )
        told = [attachment.uploader_id, order.sales_id]
        await notify.upload_removed(
            order, by=actor, told=told, text=f"删除{attachment.category.label} {name}：{reason}"
        )
    await attachment.refresh_from_db()
    return attachment
