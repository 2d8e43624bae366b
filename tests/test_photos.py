"""Photos sent in the chat: stored content-addressed with a thumbnail, or refused in Chinese."""

from __future__ import annotations

import pytest

from bot.events import ImageMessage
from infra.runtime import runtime
from infra.storage import RejectedFile
from models import Attachment, AttachmentCategory
from tests.support import World, assignee_of, jpeg
from tests.test_measure_slice import create_order_via_form, dispatch_by_card

# On this machine's disk and in a bucket (tests/s3_server.py).
pytestmark = pytest.mark.parametrize("storage_backend", ["disk", "bucket"])


async def measuring(world: World) -> tuple[str, int]:
    order = await create_order_via_form(world)
    task = await dispatch_by_card(world, order)
    measurer = await assignee_of(task)
    await world.tap(measurer, world.card(measurer, "新测量任务"), "接单")
    return measurer, order.id


def site_photos(order_id: int):  # type: ignore[no-untyped-def]
    return Attachment.filter(order_id=order_id).exclude(category=AttachmentCategory.PAPER_ORDER)


async def test_photo_is_stored_once_with_thumbnail(world: World) -> None:
    measurer, order_id = await measuring(world)
    data = jpeg(1600, 1200)
    await world.photo(measurer, data)
    await world.photo(measurer, data)  # the same picture sent again: one file on disk, two photos
    photos = await site_photos(order_id)
    assert len(photos) == 2 and photos[0].sha256 == photos[1].sha256
    files = runtime().files
    assert await files.read(photos[0].sha256) == data
    assert len(await files.read(photos[0].sha256, thumbnail=True)) < len(data)
    assert photos[0].content_type == "image/jpeg" and photos[0].size == len(data)


async def test_non_image_refused(world: World) -> None:
    measurer, order_id = await measuring(world)
    await world.photo(measurer, b"MZ\x90\x00" + b"\x00" * 2000, "virus.jpg")
    assert world.last_text(measurer).startswith("照片没有保存：文件不是有效的图片")
    assert await site_photos(order_id).count() == 0


async def test_oversized_photo_refused(world: World) -> None:
    measurer, order_id = await measuring(world)
    runtime().files.max_image_bytes = 50_000
    await world.photo(measurer, jpeg(3000, 3000, (1, 2, 3)) + b"\x00" * 60_000)
    assert "图片太大" in world.last_text(measurer)
    assert await site_photos(order_id).count() == 0


async def test_photo_without_task(world: World) -> None:
    await world.photo("sunceliang")
    assert world.last_text("sunceliang") == "你当前没有进行中的测量或安装任务，照片没有保存。"
    await world.photo("zhangxiaoshou")
    assert "只有测量和安装师傅" in world.last_text("zhangxiaoshou")
    assert await Attachment.all().count() == 0


async def test_unknown_media_refused(world: World) -> None:
    """A MediaId WeCom no longer has (they live 3 days): media/get answers 40007."""
    measurer, _ = await measuring(world)
    event = ImageMessage(userid=measurer, create_time=0, media_id="expired-media-id", pic_url="", msg_id="1")
    prepared = await world.services.dispatcher.prepare(event)
    assert isinstance(prepared, RejectedFile) and str(prepared) == "照片已过期或无法下载，请重新发送"
