"""Attaching a stored file to an order: the one place an Attachment row is made."""

from __future__ import annotations

from infra.storage import StoredFile
from models import Attachment, AttachmentCategory, Order, Staff, Task


async def attach(
    order: Order,
    stored: StoredFile,
    *,
    category: AttachmentCategory,
    uploader: Staff | None,
    filename: str = "",
    task: Task | None = None,
    media_id: str | None = None,
) -> Attachment:
    return await Attachment.create(
        order=order,
        task=task,
        category=category,
        sha256=stored.sha256,
        content_type=stored.content_type,
        size=stored.size,
        filename=(filename or category.label).strip()[:200],
        has_thumbnail=stored.has_thumbnail,
        uploader=uploader,
        media_id=media_id,
    )
