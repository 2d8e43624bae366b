from tests.support import World


async def test_help_reaches_member(world: World) -> None:
    await world.say("zhangxiaoshou", "帮助")
    card = world.card("zhangxiaoshou", "接力 · 可以这样和我说")
    assert "我的任务" in card.card["quote_area"]["quote_text"]
