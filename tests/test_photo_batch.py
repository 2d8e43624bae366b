"""Photos sent together get one category card for the batch: 40 site photos in a minute would be 40
cards, beyond what WeCom delivers to one member (30 a minute, the rest dropped silently)."""

from __future__ import annotations

import asyncio
from typing import Any

from models import AttachmentCategory, Order
from tests.support import World, jpeg
from tests.test_photos import measuring, site_photos

BATCH = 40
TITLE = "照片已保存，请选择分类"


async def test_photos_sent_together_get_one_card_that_sorts_them_all(world: World) -> None:
    measurer, order_id = await measuring(world)
    number = (await Order.get(id=order_id)).number
    world.emu.limit_per_member(per_minute=30, per_hour=1000)
    cards_before = len([c for c in world.emu.cards(measurer) if c.title == TITLE])
    # The first photo's handling waits (a slow download) until the rest have arrived: a batch, as when
    # a measurer sends a whole series at once.
    arrived = asyncio.Event()
    inbox = world.services.inbox
    prepare = inbox._prepare

    async def slow_download(event: Any) -> Any:
        await arrived.wait()
        return await prepare(event)

    inbox._prepare = slow_download
    for i in range(BATCH):
        result = await world.emu.user_sends_image(measurer, jpeg(color=(i, 2, 3)), f"p{i}.jpg")
        assert result.status == 200
    arrived.set()
    await world.settle(within=120)

    assert await site_photos(order_id).count() == BATCH
    cards = [c for c in world.emu.cards(measurer) if c.title == TITLE][cards_before:]
    assert [c.desc for c in cards] == [f"订单 {number} · 这 {BATCH} 张一起归类"]
    assert world.emu.dropped[measurer] == 0

    await world.tap(measurer, cards[0], "水电路")
    assert world.emu.card(measurer, cards[0].msgid).replace_text == f"{BATCH} 张已归类：水电路"
    sorted_photos = await site_photos(order_id).filter(category=AttachmentCategory.PLUMBING_ELECTRICAL).count()
    assert sorted_photos == BATCH


async def test_a_photo_sent_alone_still_gets_its_own_card(world: World) -> None:
    measurer, order_id = await measuring(world)
    await world.photo(measurer)
    await world.photo(measurer)
    cards = [c for c in world.emu.cards(measurer) if c.title == TITLE]
    assert [c.desc.split(" · ")[1] for c in cards] == ["第 1 张", "第 2 张"]
