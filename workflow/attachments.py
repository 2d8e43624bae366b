"""Attaching a stored file to an order: the one place an Attachment row is made."""

from __future__ import annotations

import re
import unicodedata

from infra.storage import StoredFile
from models import Attachment, AttachmentCategory, Order, Staff, Task


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
) -> Attachment:
    return await Attachment.create(
        order=order,
        task=task,
        category=category,
        sha256=stored.sha256,
        content_type=stored.content_type,
        size=stored.size,
        filename=file_name(filename, category.label),
        has_thumbnail=stored.has_thumbnail,
        uploader=uploader,
        media_id=media_id,
    )
