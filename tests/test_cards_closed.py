"""A card whose step was taken elsewhere, or whose order is gone, is closed where it stands."""

from __future__ import annotations

import aiohttp

from models import MessageState, OrderState, OutboxMessage
from tests.support import World
from tests.test_lifecycle import signature_png
from tests.test_permissions import at_state, seeded
from workflow.changes import cancel_order
from workflow.signing import signing_url


async def test_the_signing_cards_close_when_the_customer_signs(world: World) -> None:
    order = await at_state("CC-SIGN", OrderState.INSTALLED)
    await world.settle()
    for userid in ("chenanzhuang", "zhangxiaoshou"):
        assert not world.card(userid, "请客户签字确认").replaced
    async with aiohttp.ClientSession() as customer:
        async with customer.post(signing_url(order), data={"signature": signature_png()}) as resp:
            assert resp.status == 200
    await world.settle()
    for userid in ("chenanzhuang", "zhangxiaoshou"):
        assert world.card(userid, "请客户签字确认").replace_text == "客户已签字"


async def test_cancelling_closes_the_dispatchers_and_workers_cards(world: World) -> None:
    waiting = await at_state("CC-NEW", OrderState.CREATED)
    await world.settle()
    card = world.card("qianpaidan", "新订单待派测量")
    assert f"订单 {waiting.number}" in card.desc and not card.replaced
    await cancel_order(actor=await seeded("zhangxiaoshou"), order=waiting, reason="客户不装了")
    await world.settle()
    assert world.card("qianpaidan", "新订单待派测量").replace_text == "订单已取消"
    assert world.card("zhaopaidan", "新订单待派测量").replace_text == "订单已取消"

    booked = await at_state("CC-BOOKED", OrderState.MEASURE_SCHEDULED)
    await world.settle()
    assert not world.card("sunceliang", "测量进行中").replaced
    await cancel_order(actor=await seeded("zhangxiaoshou"), order=booked, reason="客户不装了")
    await world.settle()
    assert world.card("sunceliang", "测量进行中").replace_text == "订单已取消"


async def test_the_numbers_are_for_managers_and_others_are_told_so(world: World) -> None:
    await world.say("zhangxiaoshou", "本月统计")
    assert "只对管理层开放" in world.last_text("zhangxiaoshou")


async def test_a_card_closed_once_is_not_updated_again(world: World) -> None:
    # Dispatched (the dispatchers' card closed with who took it), then cancelled: the spent response
    # code is not used a second time, so no update fails at WeCom.
    order = await at_state("CC-TWICE", OrderState.MEASURE_SCHEDULED)
    await world.settle()
    assert world.card("qianpaidan", "新订单待派测量").replace_text.startswith("已派给")  # type: ignore[union-attr]
    await cancel_order(actor=await seeded("zhangxiaoshou"), order=order, reason="客户不装了")
    await world.settle()
    assert world.card("qianpaidan", "新订单待派测量").replace_text.startswith("已派给")  # type: ignore[union-attr]
    assert not await OutboxMessage.filter(state=MessageState.FAILED).exists()
