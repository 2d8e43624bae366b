"""Money in the managers' numbers, checked against sums made in the test over generated orders: random
prices, discounts and payments (some voided, some not yet confirmed), several stores and series."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import openpyxl

from cards.manager import stats_message, yuan
from cards.views import Figures, Money, Period, SeriesLine, Stats
from infra.timeutil import local_moment, local_today
from models import Order, OrderItem, OrderState, OrgUnit, Payment, PaymentKind, PaymentMethod, Staff
from models.enums import OPEN_ORDER_STATES
from tests.support import World
from tests.test_stats import a_customer
from workflow.admin import ensure_unit
from workflow.stats import parse_period, stats_for
from workflow.stats_push import daily_push

STORES = ["朗斯家居/华东区/上海徐汇店", "朗斯家居/华东区/上海浦东店", "朗斯家居/华南区/广州天河店"]
SERIES = ["淋浴房", "门窗", "定制衣柜", "瓷砖"]
STATES = [OrderState.CONFIRMED, OrderState.IN_STOCK, OrderState.INSTALLED, OrderState.SIGNED, OrderState.CANCELLED]
CENT = Decimal("0.01")


@dataclass
class Made:
    unit: int
    state: OrderState
    confirmed_at: datetime | None
    contract: Decimal | None
    list_amount: Decimal | None
    lines: list[tuple[str, int, Decimal]] = field(default_factory=list)  # (series, quantity, amount)
    payments: list[tuple[Decimal, datetime, bool, bool]] = field(default_factory=list)  # amount, at, voided, confirmed


def money(rng: random.Random, low: int, high: int) -> Decimal:
    return (Decimal(rng.randint(low * 100, high * 100)) / 100).quantize(CENT)


async def generate(n: int, *, seed: int = 23) -> list[Made]:
    """Priced orders (and a few from before prices: a typed contract, no lines) confirmed over two months,
    each with zero to three payments."""
    rng = random.Random(seed)
    sales = await Staff.get(userid="zhangxiaoshou")
    customer = await a_customer()
    units = [await ensure_unit(path) for path in STORES]
    today = local_today()
    made: list[Made] = []
    for i in range(n):
        unit = rng.choice(units)
        created = local_moment(today - timedelta(days=rng.randint(0, 62)), time(rng.randint(8, 20)))
        confirmed_at = created + timedelta(hours=rng.randint(1, 24 * 5)) if rng.random() < 0.85 else None
        state = rng.choice(STATES) if confirmed_at else OrderState.DESIGNED
        lines: list[tuple[str, int, Decimal, Decimal, Decimal]] = []  # series, qty, list price, unit price, amount
        priced = rng.random() < 0.85  # priced at sale, so orders not confirmed yet have a contract too
        if priced:
            for _ in range(rng.randint(1, 3)):
                list_price = money(rng, 300, 9000)
                off = Decimal(rng.choice([0, 0, 5, 10, 15])) / 100
                unit_price = (list_price * (1 - off)).quantize(CENT)
                qty = rng.randint(1, 4)
                lines.append((rng.choice(SERIES), qty, list_price, unit_price, unit_price * qty))
        list_amount = sum((q * lp for _, q, lp, _, _ in lines), Decimal("0.00")) if priced else None
        if priced:
            line_total = sum((a for *_, a in lines), Decimal("0.00"))
            discount = money(rng, 0, 500) if rng.random() < 0.4 else Decimal("0.00")
            contract: Decimal | None = max(line_total - discount, Decimal("0.00"))
        elif confirmed_at is not None:
            contract = money(rng, 2000, 60000)  # typed by hand, before prices
        else:
            contract = None
        order = await Order.create(
            number=f"M{i:05d}",
            customer=customer,
            address="—",
            sales=sales,
            org_unit=unit,
            state=state,
            confirmed_at=confirmed_at,
            contract_amount=contract,
            list_amount=list_amount,
            discount_amount=(list_amount - contract) if priced and list_amount and contract is not None else 0,
        )
        await Order.filter(id=order.id).update(created_at=created)
        m = Made(unit.id, state, confirmed_at, contract, list_amount)
        for series, qty, list_price, unit_price, amount in lines:
            await OrderItem.create(
                order=order,
                series=series,
                model="X",
                quantity=qty,
                list_price=list_price,
                unit_price=unit_price,
                amount=amount,
            )
            m.lines.append((series, qty, amount))
        if contract is not None and confirmed_at is not None:
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                at = confirmed_at + timedelta(hours=rng.randint(0, 24 * 20))
                at = min(at, local_moment(today, time(0)))
                amount = money(rng, 100, int(contract * Decimal("0.7")) + 101)
                voided, confirmed = rng.random() < 0.15, rng.random() < 0.7
                payment = await Payment.create(
                    order=order,
                    amount=amount,
                    method=PaymentMethod.WECHAT,
                    kind=PaymentKind.DEPOSIT,
                    voided_at=at + timedelta(hours=1) if voided else None,
                    confirmed_at=at + timedelta(hours=2) if confirmed else None,
                )
                await Payment.filter(id=payment.id).update(created_at=at)
                m.payments.append((amount, at, voided, confirmed))
            # Written around the workflow: the order's paid total as workflow.owed would have kept it.
            standing = sum((a for a, _, voided, _ in m.payments if not voided), Decimal("0.00"))
            await Order.filter(id=order.id).update(paid_amount=standing)
        made.append(m)
    return made


@dataclass
class Expected:
    contract: Decimal = Decimal("0.00")
    contract_orders: int = 0
    collected: Decimal = Decimal("0.00")
    collected_confirmed: Decimal = Decimal("0.00")
    outstanding: Decimal = Decimal("0.00")
    outstanding_orders: int = 0
    list_amount: Decimal = Decimal("0.00")
    priced_contract: Decimal = Decimal("0.00")
    series: dict[str, tuple[int, int, Decimal]] = field(default_factory=dict)


def expected(made: list[Made], units: set[int], period: Period) -> Expected:
    e = Expected()
    series: dict[str, tuple[set[int], int, Decimal]] = {}
    for i, m in enumerate(made):
        if m.unit not in units:
            continue
        live = m.state != OrderState.CANCELLED
        inside = m.confirmed_at is not None and period.start_at <= m.confirmed_at < period.end_at
        if inside and live and m.contract is not None:
            e.contract += m.contract
            e.contract_orders += 1
            if m.list_amount:
                e.list_amount += m.list_amount
                e.priced_contract += m.contract
            for name, qty, amount in m.lines:
                orders, quantity, total = series.get(name, (set(), 0, Decimal("0.00")))
                series[name] = (orders | {i}, quantity + qty, total + amount)
        standing = [(a, at, c) for a, at, voided, c in m.payments if not voided]
        for amount, at, confirmed in standing:
            if period.start_at <= at < period.end_at:
                e.collected += amount
                e.collected_confirmed += amount if confirmed else 0
        if live and m.contract is not None and m.confirmed_at is not None:  # an offer is no debt
            owed = m.contract - sum((a for a, _, _ in standing), Decimal("0.00"))
            if owed > 0:
                e.outstanding += owed
                e.outstanding_orders += 1
    e.series = {name: (len(orders), qty, total) for name, (orders, qty, total) in series.items()}
    return e


async def units_under(path: str) -> set[int]:
    unit = await ensure_unit(path)
    return {u.id for u in await OrgUnit.filter(path__startswith=unit.path)}


async def test_money_matches_independent_sums(world: World) -> None:
    made = await generate(160)
    today = local_today()
    periods = [
        parse_period("本月"),
        parse_period("本周"),
        parse_period("今日"),
        parse_period(f"统计 {(today.replace(day=1) - timedelta(days=1)):%Y-%m}"),
    ]
    viewers = {"wangzong": "朗斯家居", "liujingli": "朗斯家居/华东区", "chendianzhang": "朗斯家居/华东区/上海徐汇店"}
    checked_discount = False
    for userid, path in viewers.items():
        viewer = await world.staff(userid)
        scope = await units_under(path)
        for period in periods:
            stats = await stats_for(viewer, period)
            got, want = stats.total.money, expected(made, scope, period)
            assert got is not None
            assert (got.contract, got.contract_orders) == (want.contract, want.contract_orders), (userid, period)
            assert (got.collected, got.collected_confirmed) == (want.collected, want.collected_confirmed)
            assert got.collected_pending == want.collected - want.collected_confirmed
            assert (got.outstanding, got.outstanding_orders) == (want.outstanding, want.outstanding_orders)
            if want.list_amount:
                discount = (1 - want.priced_contract / want.list_amount).quantize(Decimal("0.0001"))
                assert got.avg_discount == discount and discount > 0
                checked_discount = True
            else:
                assert got.avg_discount is None
            assert {s.series: (s.orders, s.quantity, s.amount) for s in stats.series} == want.series
            if stats.series:
                assert [s.amount for s in stats.series] == sorted((s.amount for s in stats.series), reverse=True)
                assert abs(sum((s.share for s in stats.series), Decimal(0)) - 1) < Decimal("0.001")
            for unit, figures in stats.by_unit:
                sub = expected(made, {u.id for u in await OrgUnit.filter(path__startswith=unit.path)}, period)
                assert figures.money is not None
                assert (figures.money.contract, figures.money.collected, figures.money.outstanding) == (
                    sub.contract,
                    sub.collected,
                    sub.outstanding,
                )
    assert checked_discount
    # The figures are real: something was confirmed, paid, voided and is still owed this month.
    month = expected(made, await units_under("朗斯家居"), periods[0])
    assert month.contract and month.collected and month.outstanding and month.collected != month.collected_confirmed
    assert any(m.contract is not None and m.confirmed_at is None for m in made)  # offers, owing nothing yet


async def test_a_store_manager_sees_only_their_store_money(world: World) -> None:
    made = await generate(80, seed=5)
    period = parse_period("本月")
    xuhui = await units_under("朗斯家居/华东区/上海徐汇店")
    stats = await stats_for(await world.staff("chendianzhang"), period)
    mine = expected(made, xuhui, period)
    assert stats.total.money is not None and stats.total.money.outstanding == mine.outstanding
    everyone = expected(made, await units_under("朗斯家居"), period)
    assert everyone.outstanding > mine.outstanding  # other stores' money is not in it
    await world.say("chendianzhang", "本月统计")
    content = world.emu.chat("chendianzhang")[-1].payload["markdown"]["content"]
    assert f"未收清 {yuan(mine.outstanding)}" in content and yuan(everyone.outstanding) not in content
    assert "分组织金额" not in content  # a store has no units below


async def test_money_in_chat_the_dashboard_and_exports(world: World) -> None:
    made = await generate(120, seed=31)
    period = parse_period("本月")
    scope = await units_under("朗斯家居/华东区")
    want = expected(made, scope, period)
    await world.say("liujingli", "本月统计")
    content = world.emu.chat("liujingli")[-1].payload["markdown"]["content"]
    assert len(content.encode()) <= 2048 and "> …" not in content  # short: nothing clipped
    assert f"签约 {yuan(want.contract)}（{want.contract_orders} 单）" in content
    assert f"回款 {yuan(want.collected)}（已确认 {yuan(want.collected_confirmed)}" in content
    assert "上海徐汇店：" in content and "（万元：签约 / 回款 / 未收清）" in content and "按产品系列" in content
    assert "," in yuan(Decimal("123456789.00")) and yuan(Decimal("9999.5")) == "9,999.50 元"
    assert yuan(Decimal("123456")) == "12.35 万元"

    # A measurer asking is refused as before: the numbers, money or not, are the managers'.
    await world.say("sunceliang", "本月统计")
    assert "只对管理层开放" in world.last_text("sunceliang")

    top = max(want.series.items(), key=lambda kv: (kv[1][2], kv[0]))
    async with world.browser_session("liujingli") as http:
        async with http.get(f"{world.relay_url}/h5/dashboard") as resp:
            html = await resp.text()
            assert resp.status == 200
        assert f'data-money="contract">{want.contract:,.2f} 元<' in html
        assert f'data-money="outstanding">{want.outstanding:,.2f} 元<' in html
        series_table = html.split('id="by-series"')[1].split("</table>")[0]
        assert f'data-series="{top[0]}"' in series_table and f"{top[1][2]:,.2f} 元" in series_table
        async with http.get(f"{world.relay_url}/h5/dashboard/export.csv") as resp:
            text = (await resp.read()).decode("utf-8-sig")
        async with http.get(f"{world.relay_url}/h5/dashboard/export.xlsx") as resp:
            data = await resp.read()
    table = list(csv.reader(io.StringIO(text)))
    total = next(row for row in table if row[:1] == ["华东区（合计）"] and len(row) == 9)
    assert Decimal(total[1]) == want.contract and Decimal(total[6]) == want.outstanding

    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    rows = [tuple(c for c in row if c is not None) for row in sheet.iter_rows(values_only=True)]
    columns = ("签约金额", "签约单数", "回款合计", "回款已确认", "回款待确认", "未收清", "未收清单数", "平均优惠")
    head = rows.index(("金额（元）", *columns))
    total_row = next(r for r in rows[head:] if r[0] == "华东区（合计）")
    assert all(isinstance(c, int | float) for c in total_row[1:])  # numbers: Excel sums them
    assert Decimal(str(total_row[1])) == want.contract and Decimal(str(total_row[3])) == want.collected
    assert Decimal(str(total_row[4])) == want.collected_confirmed and Decimal(str(total_row[6])) == want.outstanding
    series_head = rows.index(("产品系列", "订单数", "数量", "金额（元）", "占比"))
    by_series = {r[0]: r[1:] for r in rows[series_head + 1 : series_head + 1 + len(want.series)]}
    assert set(by_series) == set(want.series)
    for name, (orders, qty, amount) in want.series.items():
        n, q, a, share = by_series[name]
        assert (n, q, Decimal(str(a))) == (orders, qty, amount) and isinstance(share, int | float) and 0 < share <= 1


async def test_the_daily_push_carries_the_money(world: World) -> None:
    made = await generate(60, seed=41)
    today = local_today()
    await daily_push({"date": today.isoformat()})
    while await world.services.scheduler.run_due():
        pass
    await world.settle()
    day = Period(today, today + timedelta(days=1), f"{today:%Y-%m-%d}")
    for userid, path in (("wangzong", "朗斯家居"), ("chendianzhang", "朗斯家居/华东区/上海徐汇店")):
        want = expected(made, await units_under(path), day)
        pushed = [m for m in world.emu.chat(userid) if m.msgtype == "markdown"]
        assert len(pushed) == 1
        content = pushed[0].payload["markdown"]["content"]
        assert f"签约 {yuan(want.contract)}（{want.contract_orders} 单）" in content
        assert f"未收清 {yuan(want.outstanding)}（{want.outstanding_orders} 单，截至现在）" in content


def test_the_chat_card_stays_within_one_message_for_a_region_of_twenty_stores() -> None:
    figures = Figures(
        {"created": 29978, "measured": 27305, "designed": 25440, "in_stock": 19793, "installed": 19335},
        Money(Decimal("12345678.90"), 1234, Decimal("9876543.21"), Decimal("8765432.10"), Decimal("23456789.01"), 8283,
              Decimal("13000000.00"), Decimal("12000000.00")),
    )  # fmt: skip
    stores = [(OrgUnit(id=i, name=f"乌鲁木齐{i:02d}店", path=f"/1/{i}/"), figures) for i in range(20)]
    series = [SeriesLine(f"系列{i}", 4000, 9000, Decimal("2345678.00"), Decimal("0.125")) for i in range(8)]
    month = Period(date(2026, 11, 1), date(2026, 12, 1), "2026年11月")
    waiting = dict.fromkeys(list(OPEN_ORDER_STATES), 1000)
    days: dict[str, float | None] = {
        "新建→测量": 2.1,
        "测量→设计": 3.0,
        "设计→确认": 4.1,
        "确认→到货": 16.2,
        "到货→安装": 4.8,
    }
    stats = Stats(OrgUnit(id=1, name="西北区", path="/1/"), month, figures, stores, waiting, days,
                  {"sales": 4.3, "measurer": 4.2, "installer": 4.1}, [("张三", 3.1, 5)], series)  # fmt: skip
    content = stats_message("x", stats)["markdown"]["content"]
    assert len(content.encode()) <= 2048
    assert "签约 1,234.57 万元（1234 单） · 平均优惠 7.7%" in content
    assert "另 12 个组织见数据看板" in content and "系列4 234.57 万元 · 12.5% · 9000 件" in content
    assert "系列5" not in content  # the top five series only
