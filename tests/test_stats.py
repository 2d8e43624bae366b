"""The managers' numbers, checked against counts made independently over generated orders."""

from __future__ import annotations

import asyncio
import io
import random
import warnings
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import matplotlib
import openpyxl
import pytest
from matplotlib import font_manager
from PIL import Image, ImageChops

from cards.charts import HEIGHT, WIDTH, ChartData, draw_chart, stats_chart
from cards.views import STAGES, Figures, Period, Stats
from infra.runtime import runtime
from infra.timeutil import local_moment, local_today, utcnow
from models import Customer, Job, MessageState, Order, OrderState, OrgUnit, Staff, Task, TaskKind, TaskState, Visit
from tests.support import HeldChart, World
from workflow.admin import ensure_unit
from workflow.errors import Invalid, NotAllowed
from workflow.stats import parse_period, stats_for
from workflow.stats_push import STATS_CHART

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


async def a_customer() -> Customer:
    vault = runtime().vault
    return await Customer.create(
        name="测", phone_encrypted=vault.encrypt("13800000000"), phone_index=vault.blind_index("13800000000")
    )


def at(day: date, hour: int) -> datetime:
    return local_moment(day, time(hour))


async def generate(n: int, *, seed: int = 7) -> list[dict[str, object]]:
    """Orders across three stores with stage times spread over two months; returns what was made."""
    rng = random.Random(seed)
    sales = await Staff.get(userid="zhangxiaoshou")
    customer = await a_customer()
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
    await world.services.scheduler.run_due()  # the chart's job (the tests run jobs by hand)
    await world.settle()
    texts = [m for m in world.emu.chat("liujingli") if m.direction == "out"]
    assert [m.msgtype for m in texts] == ["markdown", "image"]
    content = texts[0].payload["markdown"]["content"]
    stats = await stats_for(await world.staff("liujingli"), parse_period("本月"))
    assert content.startswith("## 华东区 · ") and f"新建订单 {stats.total.counts['created']}" in content
    assert "上海徐汇店：" in content and "上海浦东店：" in content and "华南区" not in content
    assert texts[1].payload["image"]["media_id"]
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
            assert "sales" not in text and "平均用时,天" in text and "客户评分,平均分" in text
        async with http.get(f"{world.relay_url}/h5/dashboard/export.xlsx") as resp:
            data = await resp.read()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    # Rows as far as their last cell: the money section below is wider than the counts.
    table = [tuple(row[: max((i + 1 for i, c in enumerate(row) if c is not None), default=0)]) for row in
             sheet.iter_rows(values_only=True)]  # fmt: skip
    header = table.index(("组织", *[label for _, _, label in STAGES]))
    total = next(row for row in table if row[:1] == ("华东区（合计）",))
    assert header < table.index(total) and list(total[1:6]) == [stats.total.counts[k] for k, _, _ in STAGES]
    assert all(isinstance(n, int) for n in total[1:6])  # numbers, not text: Excel sums them
    waiting = table.index(("当前各环节待办", "订单数"))
    for state, n in stats.waiting.items():
        assert (state.label, n) in [row[:2] for row in table[waiting:]]
    days = table[table.index(("平均用时", "天")) + 1]
    assert days[0] == "新建→测量" and (days[1] is None or isinstance(days[1], float))
    scores = table.index(("客户评分", "平均分"))
    assert [row[0] for row in table[scores + 1 : scores + 4]] == ["销售", "测量", "安装"]
    assert not any(isinstance(c, str) and c.split(" ")[-1].replace(".", "").isdigit() for row in table for c in row)


async def test_the_numbers_go_out_before_the_chart_is_drawn(world: World) -> None:
    await generate(40, seed=13)
    chart = HeldChart()
    drawn: list[str] = []

    def counted(data: ChartData) -> bytes:
        drawn.append(data.title)
        return chart(data)

    world.services.runtime.draw_chart = counted
    await world.say("liujingli", "本月统计")
    # The numbers are there, and no chart has been drawn yet: the chart is a job of its own.
    assert [m.msgtype for m in world.emu.chat("liujingli") if m.direction == "out"] == ["markdown"]
    assert not chart.drawing.is_set()
    drawing = asyncio.create_task(world.services.scheduler.run_due())
    await chart.drawing.wait()
    # While it is drawn, others are answered: nothing waits on it (on SQLite, no transaction is open).
    await world.say("zhangxiaoshou", "我的任务")
    chart_was_held = not chart.finished.is_set()
    chart.release()
    assert await drawing == 1 and chart_was_held
    await world.settle()
    assert [m.msgtype for m in world.emu.chat("liujingli") if m.direction == "out"] == ["markdown", "image"]
    # Asked again within the minute, the same scope and period: the chart drawn is sent again, not redrawn.
    await world.say("liujingli", "本月统计")
    await world.services.scheduler.run_due()
    await world.settle()
    sent = [m for m in world.emu.chat("liujingli") if m.direction == "out"]
    assert [m.msgtype for m in sent] == ["markdown", "image", "markdown", "image"]
    assert len(drawn) == 1 and drawn[0].startswith("华东区 · ")


async def test_a_chart_that_fails_is_drawn_again_and_sent_once(world: World) -> None:
    await generate(20, seed=17)
    drawn = 0

    def fails_first(chart: ChartData) -> bytes:
        nonlocal drawn
        drawn += 1
        if drawn == 1:
            raise RuntimeError("the process died while drawing")
        return draw_chart(chart)

    world.services.runtime.draw_chart = fails_first
    await world.say("chendianzhang", "今日统计")
    assert await world.services.scheduler.run_due() == 1  # it fails, and is put off
    job = await Job.get(kind=STATS_CHART)
    assert job.state == MessageState.PENDING and "died while drawing" in job.last_error
    await Job.filter(id=job.id).update(due_at=utcnow())
    assert await world.services.scheduler.run_due() == 1
    await world.settle()
    assert drawn == 2
    sent = [m.msgtype for m in world.emu.chat("chendianzhang") if m.direction == "out"]
    assert sent == ["markdown", "image"]


@pytest.fixture
def no_system_fonts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A machine with no Chinese font: matplotlib sees only the fonts it brings itself (DejaVu)."""
    own = Path(matplotlib.get_data_path())
    fonts = [f for f in font_manager.fontManager.ttflist if Path(f.fname).is_relative_to(own)]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", fonts)
    font_manager.FontManager._findfont_cached.cache_clear()  # type: ignore[attr-defined]
    yield
    font_manager.FontManager._findfont_cached.cache_clear()  # type: ignore[attr-defined]


def chart_of(unit: str, period: str, *, missing: bool = False) -> Image.Image:
    figures = Figures({"created": 12, "measured": 9, "designed": 7, "in_stock": 4, "installed": 3})
    month = Period(date(2026, 12, 1), date(2027, 1, 1), period)
    stats = Stats(OrgUnit(id=1, name=unit, path="/1/"), month, figures, [], {}, {}, {}, [])
    with warnings.catch_warnings():
        # matplotlib warns of each glyph its font lacks ("Glyph … missing from font(s) …")
        warnings.simplefilter("ignore" if missing else "error")
        png = stats_chart(stats)
    return Image.open(io.BytesIO(png)).convert("RGB")


def test_the_chart_is_in_chinese_on_a_machine_without_a_chinese_font(no_system_fonts: None) -> None:
    chinese = chart_of("上海徐汇店", "2026年12月")
    # The same chart with characters no font has: each drawn as the missing-glyph box.
    boxes = chart_of("\ue000\ue001\ue002\ue003\ue004", "2026\ue00512\ue006", missing=True)
    assert chinese.size == boxes.size == (WIDTH, HEIGHT)
    differ = ImageChops.difference(chinese, boxes).getbbox()
    assert differ is not None, "the Chinese title is drawn as boxes"
    left, top, right, bottom = differ
    assert bottom < HEIGHT // 6 and right - left > 100  # the title, and all of it: the rest of the chart is alike
    # The known label drawn alone, in the chart's font, is not the box either.
    assert text_image("区") != text_image("\ue000")


def text_image(text: str) -> bytes:
    from matplotlib.figure import Figure

    from cards.charts import chart_font

    fig = Figure(figsize=(0.5, 0.5), dpi=100)
    fig.text(0.1, 0.2, text, fontproperties=chart_font(24))
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.savefig(out, format="png")
    return out.getvalue()


async def test_scores_and_the_lowest_are_those_of_the_period_asked(world: World) -> None:
    this_month = parse_period("本月")
    last_month = parse_period(f"统计 {this_month.start - timedelta(days=1):%Y-%m}")
    empty_month = f"统计 {last_month.start - timedelta(days=1):%Y-%m}"
    sales, measurer, installer = [await world.staff(u) for u in ("zhangxiaoshou", "sunceliang", "chenanzhuang")]
    await Staff.filter(id=sales.id).update(score=5.0)  # every visit so far gave her full marks
    caller = await world.staff("weishouhou")
    unit = await ensure_unit("朗斯家居/华东区/上海徐汇店")
    customer = await a_customer()

    async def visited(number: str, when: datetime, scores: tuple[int, int, int]) -> None:
        order = await Order.create(
            number=number, customer=customer, address="—", sales=sales, org_unit=unit, state=OrderState.VISITED
        )
        for kind, who in ((TaskKind.MEASURE, measurer), (TaskKind.INSTALL, installer)):
            await Task.create(order=order, kind=kind, state=TaskState.DONE, assignee=who, scheduled_date=when.date())
        visit = await Visit.create(
            order=order,
            caller=caller,
            reached=True,
            score_sales=scores[0],
            score_measurer=scores[1],
            score_installer=scores[2],
        )
        await Visit.filter(id=visit.id).update(created_at=when)

    await visited("V-LAST", at(last_month.start + timedelta(days=3), 10), (5, 2, 5))
    await visited("V-THIS-1", at(this_month.start, 9), (5, 5, 3))
    await visited("V-THIS-2", at(this_month.end - timedelta(days=1), 8), (5, 5, 4))
    manager = await world.staff("chendianzhang")

    now = await stats_for(manager, this_month)
    assert now.scores == {"sales": 5.0, "measurer": 5.0, "installer": 3.5}
    assert now.lowest == [("陈师傅", 3.5, 2)]  # below the month's 4.5; a 5.0 is never low
    before = await stats_for(manager, last_month)
    assert before.scores == {"sales": 5.0, "measurer": 2.0, "installer": 5.0} and before.lowest == [("孙师傅", 2.0, 1)]

    await world.say("chendianzhang", empty_month)
    content = [m for m in world.emu.chat("chendianzhang") if m.msgtype == "markdown"][-1].payload["markdown"]["content"]
    assert "本期暂无回访评分" in content and "低于本期平均" not in content and "张晓燕" not in content
    await world.say("chendianzhang", last_month.label.replace("年", "-").replace("月", "").join(["统计 ", ""]))
    content = [m for m in world.emu.chat("chendianzhang") if m.msgtype == "markdown"][-1].payload["markdown"]["content"]
    assert "低于本期平均：孙师傅 2.0（1 次评分）" in content and "张晓燕" not in content
    async with world.browser_session("chendianzhang") as http:
        async with http.get(f"{world.relay_url}/h5/dashboard") as resp:
            html = await resp.text()
    assert "低于本期平均：陈师傅" in html and "张晓燕" not in html.split('id="scores"')[1]
