"""The managers' numbers, checked against counts made independently over generated orders."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import date, datetime, time, timedelta

import pytest
from PIL import Image

from cards.charts import HEIGHT, WIDTH, stats_chart
from cards.views import STAGES, Period, Stats
from infra.timeutil import local_moment, local_today
from models import Customer, InboxMessage, MessageState, Order, OrderState, OrgUnit, Staff
from tests.support import HeldChart, World
from workflow.admin import ensure_unit
from workflow.errors import Invalid, NotAllowed
from workflow.stats import parse_period, stats_for

STORES = ["朗斯家居/华东区/上海徐汇店", "朗斯家居/华东区/上海浦东店", "朗斯家居/华南区/广州天河店"]
STAMPS = {
    "created": "created_at",
    "measured": "measured_at",
    "designed": "designed_at",
    "in_stock": "in_stock_at",
    "installed": "installed_at",
}
PROGRESS = [
    OrderState.CREATED,
    OrderState.MEASURED,
    OrderState.DESIGNED,
    OrderState.CONFIRMED,
    OrderState.IN_STOCK,
    OrderState.INSTALLED,
]


def at(day: date, hour: int) -> datetime:
    return local_moment(day, time(hour))


async def generate(n: int, *, seed: int = 7) -> list[dict[str, object]]:
    """Orders across three stores with stage times spread over two months; returns what was made."""
    rng = random.Random(seed)
    sales = await Staff.get(userid="zhangxiaoshou")
    customer = await Customer.create(name="测", phone_encrypted="x", phone_index="x")
    units = [await ensure_unit(path) for path in STORES]
    today = local_today()
    made = []
    for i in range(n):
        unit = rng.choice(units)
        created = at(today - timedelta(days=rng.randint(0, 60)), rng.randint(8, 20))
        reached = rng.randint(0, len(PROGRESS) - 1)
        stamps: dict[str, datetime | None] = {"created_at": created}
        moment = created
        for stage, field in (
            ("measured", "measured_at"),
            ("designed", "designed_at"),
            ("confirmed", "confirmed_at"),
            ("in_stock", "in_stock_at"),
            ("installed", "installed_at"),
        ):
            index = {"measured": 1, "designed": 2, "confirmed": 3, "in_stock": 4, "installed": 5}[stage]
            if reached >= index:
                moment = moment + timedelta(hours=rng.randint(5, 24 * 6))
                stamps[field] = moment
            else:
                stamps[field] = None
        state = PROGRESS[reached]
        order = await Order.create(
            number=f"G{i:05d}",
            customer=customer,
            address="—",
            sales=sales,
            org_unit=unit,
            state=state,
            **{k: v for k, v in stamps.items() if k != "created_at"},
        )
        await Order.filter(id=order.id).update(created_at=created)  # auto_now_add overrides it on create
        made.append({"unit": unit.id, "state": state, **stamps})
    return made


def expected_counts(made: list[dict[str, object]], units: set[int], period: Period) -> dict[str, int]:
    counts = {}
    for key, field in STAMPS.items():
        counts[key] = sum(
            1
            for m in made
            if m["unit"] in units and m[field] is not None and period.start_at <= m[field] < period.end_at  # type: ignore[operator]
        )
    return counts


async def units_under(path: str) -> set[int]:
    unit = await ensure_unit(path)
    return {u.id for u in await OrgUnit.filter(path__startswith=unit.path)}


async def test_counts_match_an_independent_count(world: World) -> None:
    made = await generate(300)
    today = local_today()
    periods = [
        parse_period("本月"),
        parse_period("今日"),
        parse_period("本周"),
        parse_period(f"统计 {(today.replace(day=1) - timedelta(days=1)):%Y-%m}"),
    ]
    viewers = {"wangzong": "朗斯家居", "liujingli": "朗斯家居/华东区", "chendianzhang": "朗斯家居/华东区/上海徐汇店"}
    for userid, path in viewers.items():
        viewer = await world.staff(userid)
        scope = await units_under(path)
        for period in periods:
            stats = await stats_for(viewer, period)
            assert stats.total.counts == expected_counts(made, scope, period), (userid, period.label)
            for unit, figures in stats.by_unit:
                assert figures.counts == expected_counts(made, await units_under_unit(unit), period)
        waiting = {s: sum(1 for m in made if m["unit"] in scope and m["state"] == s) for s in PROGRESS}
        stats = await stats_for(viewer, periods[0])
        assert {s: n for s, n in stats.waiting.items()} == {s: n for s, n in waiting.items() if n}
    # The company view splits by region; a region splits by store.
    top = await stats_for(await world.staff("wangzong"), periods[0])
    assert sorted(u.name for u, _ in top.by_unit) == ["华东区", "华南区"]
    assert sum(f.counts["created"] for _, f in top.by_unit) == top.total.counts["created"]


async def units_under_unit(unit: OrgUnit) -> set[int]:
    return {u.id for u in await OrgUnit.filter(path__startswith=unit.path)}


async def test_average_days_per_stage(world: World) -> None:
    made = await generate(120, seed=3)
    period = parse_period("本月")
    stats = await stats_for(await world.staff("wangzong"), period)
    spans = [
        (m["measured_at"] - m["created_at"]).total_seconds() / 86400  # type: ignore[operator]
        for m in made
        if m["measured_at"] is not None and period.start_at <= m["measured_at"] < period.end_at  # type: ignore[operator]
    ]
    assert stats.avg_days["新建→测量"] == pytest.approx(round(sum(spans) / len(spans), 1), abs=0.051)


async def test_a_manager_sees_only_their_part(world: World) -> None:
    await generate(80, seed=11)
    store_manager = await world.staff("chendianzhang")
    pudong = await ensure_unit("朗斯家居/华东区/上海浦东店")
    with pytest.raises(NotAllowed):
        await stats_for(store_manager, parse_period("本月"), unit_id=pudong.id)
    with pytest.raises(Exception, match="只有管理层"):
        await stats_for(await world.staff("zhangxiaoshou"), parse_period("本月"))
    stats = await stats_for(store_manager, parse_period("本月"))
    assert stats.by_unit == [] and stats.unit.name == "上海徐汇店"
    async with world.browser_session("chendianzhang") as http:
        async with http.get(f"{world.relay_url}/h5/dashboard", params={"unit": str(pudong.id)}) as resp:
            assert resp.status == 403 and "只能查看你负责范围内的组织" in await resp.text()


def test_periods() -> None:
    today = date(2026, 11, 25)
    assert parse_period("今日统计", today=today) == Period(today, date(2026, 11, 26), "2026-11-25")
    week = parse_period("本周统计", today=today)
    assert (week.start, week.end) == (date(2026, 11, 23), date(2026, 11, 26))
    assert (parse_period("本月", today=today).start, parse_period("本月", today=today).end) == (
        date(2026, 11, 1),
        date(2026, 11, 26),
    )
    dec = parse_period("统计 2026-12", today=today)
    assert (dec.start, dec.end, dec.label) == (date(2026, 12, 1), date(2027, 1, 1), "2026年12月")
    assert parse_period("2026年3月", today=today).start == date(2026, 3, 1)
    for bad in ("统计 2026-13", "明年", "统计 abc"):
        with pytest.raises(Invalid, match="今日统计、本周统计、本月统计"):
            parse_period(bad, today=today)


async def test_chart_is_a_png_of_the_expected_size(world: World) -> None:
    await generate(40, seed=5)
    stats = await stats_for(await world.staff("wangzong"), parse_period("本月"))
    png = stats_chart(stats)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(png)) as img:
        assert img.size == (WIDTH, HEIGHT)
        colors = img.convert("RGB").getcolors(maxcolors=100_000)
        assert colors is not None and len(colors) > 10  # bars and labels, not a blank canvas


async def test_stats_in_chat_and_the_dashboard_exports(world: World) -> None:
    await generate(60, seed=9)
    await world.say("liujingli", "本月统计")
    texts = [m for m in world.emu.chat("liujingli") if m.direction == "out"]
    markdown = next(m for m in texts if m.msgtype == "markdown")
    content = markdown.payload["markdown"]["content"]
    stats = await stats_for(await world.staff("liujingli"), parse_period("本月"))
    assert content.startswith("## 华东区 · ") and f"新建订单 {stats.total.counts['created']}" in content
    assert "上海徐汇店：" in content and "上海浦东店：" in content and "华南区" not in content
    image = next(m for m in texts if m.msgtype == "image")
    assert image.payload["image"]["media_id"]
    await world.say("zhangxiaoshou", "本月统计")
    assert "只对管理层开放" in world.last_text("zhangxiaoshou")  # not a manager: no numbers, and told why
    await world.say("liujingli", "统计 2026-13")
    assert "今日统计、本周统计、本月统计" in world.last_text("liujingli")
    async with world.browser_session("liujingli") as http:
        async with http.get(f"{world.relay_url}/h5/dashboard") as resp:
            html = await resp.text()
            assert resp.status == 200 and f"<b>{stats.total.counts['installed']}</b>安装完成" in html
        async with http.get(f"{world.relay_url}/h5/dashboard/chart.png") as resp:
            assert resp.content_type == "image/png" and (await resp.read())[:4] == b"\x89PNG"
        async with http.get(f"{world.relay_url}/h5/dashboard/export.csv") as resp:
            text = (await resp.read()).decode("utf-8-sig")
            assert text.splitlines()[0] == "组织," + ",".join(label for _, _, label in STAGES)
            assert f"华东区（合计）,{stats.total.counts['created']}," in text
        async with http.get(f"{world.relay_url}/h5/dashboard/export.xlsx") as resp:
            data = await resp.read()
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        strings = book.read("xl/sharedStrings.xml").decode()
        assert "上海徐汇店" in strings and "华东区（合计）" in strings


async def test_a_callback_is_stored_and_answered_while_a_chart_is_drawn(world: World) -> None:
    await generate(40, seed=13)
    chart = HeldChart()
    world.services.runtime.draw_chart = chart
    asked = await world.emu.user_sends_text("liujingli", "本月统计")
    assert asked.status == 200
    request = await InboxMessage.get(userid="liujingli")
    await chart.drawing.wait()
    # On SQLite one open write transaction holds the whole database: this callback would wait behind it.
    other = await world.emu.user_sends_text("zhangxiaoshou", "我的任务")
    chart_was_held = not chart.finished.is_set()
    await request.refresh_from_db()
    chart.release()
    assert other.status == 200 and chart_was_held
    assert request.state == MessageState.PENDING  # the 本月统计 was still being handled
    assert await InboxMessage.filter(userid="zhangxiaoshou").exists()
    await world.settle()
    sent = [m.msgtype for m in world.emu.chat("liujingli") if m.direction == "out"]
    assert sent == ["markdown", "image"]


async def test_a_chart_that_fails_is_drawn_again_and_sent_once(world: World) -> None:
    await generate(20, seed=17)
    drawn = 0

    def fails_first(stats: Stats) -> bytes:
        nonlocal drawn
        drawn += 1
        if drawn == 1:
            raise RuntimeError("the process died while drawing")
        return stats_chart(stats)

    world.services.runtime.draw_chart = fails_first
    await world.say("chendianzhang", "今日统计")
    assert drawn == 2
    sent = [m.msgtype for m in world.emu.chat("chendianzhang") if m.direction == "out"]
    assert sent == ["markdown", "image"]
