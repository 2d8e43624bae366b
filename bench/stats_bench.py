"""Benchmark of the managers' numbers (本月统计) on PostgreSQL over a million generated orders.

Creates a fresh PostgreSQL database, runs Relay's migrations, and loads a company tree (朗斯家居 →
6 regions → 120 stores), its staff, a few customers and N orders spread over the last three years (more
recent months a little busier), each with a realistic progression through the stages — created, measured,
designed, confirmed, in stock, installed, then signed and visited — with hours to days between stages,
drop-outs (mostly cancelled), orders still in progress, their OrderEvent rows and the after-sales visits
with scores. The rows are generated with numpy and loaded with asyncpg COPY in batches, then VACUUM ANALYZE.

Then, with Relay's runtime built over that database (`running_services(config, background=False)`), it
times `workflow.stats.stats_for` for the top manager (the whole company) and for one store's manager, for
本月 and for the previous month (“统计 YYYY-MM”), `--runs` times each, and the chart
(`cards.charts.stats_chart`) once. Every figure is checked against the generator's own tally and an
independent SQL count. One extra run per case records each SQL statement Relay sends and its time; where
a case is slow (> 1 s) the slow statements are run again under EXPLAIN ANALYZE, and the missing indexes
are tried in this throwaway database (Relay's code and migrations are not touched).

    .venv/bin/python bench/stats_bench.py [--orders 1000000] [--runs 5] [--keep]

Writes bench/results/stats-postgres.md. Loopback only; the database is dropped at the end (also on error
or Ctrl-C) unless --keep.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
import tortoise
from gitinfo import working_tree_label  # noqa: E402  (bench/ is the script's folder)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the Relay tree this script sits in, ahead of anything installed

from cards.views import STAGES, Period, Stats  # noqa: E402
from infra.config import Config  # noqa: E402
from infra.db import db  # noqa: E402
from infra.security import PiiVault  # noqa: E402
from infra.timeutil import LOCAL_TZ, local_today  # noqa: E402
from models import OrderState, Staff  # noqa: E402
from models.enums import OPEN_ORDER_STATES  # noqa: E402
from relay.app import running_services  # noqa: E402
from relay.config import load_config  # noqa: E402
from relay.db import migrate  # noqa: E402
from workflow.stats import DURATIONS, parse_period, stats_for  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
PG_BASE = "postgres://postgres@127.0.0.1:5432/"
SLOW_SECONDS = 1.0  # a stats_for slower than this gets its statements explained and the indexes tried
EXPLAIN_MS = 50.0  # within a slow case, statements at least this slow are explained

COMPANY = "朗斯家居"
REGIONS = {
    "华东区": ("上海", "杭州", "南京", "苏州", "宁波"),
    "华南区": ("广州", "深圳", "佛山", "东莞", "厦门"),
    "华北区": ("北京", "天津", "石家庄", "太原", "唐山"),
    "华中区": ("武汉", "长沙", "郑州", "南昌", "合肥"),
    "西南区": ("成都", "重庆", "昆明", "贵阳", "南宁"),
    "西北区": ("西安", "兰州", "银川", "西宁", "乌鲁木齐"),
}
STORE_SUFFIX = ("一店", "二店", "三店", "四店")  # 5 cities × 4 stores = 20 stores a region

# The stage columns in order; index 0 is created_at. Each later stage: (column, event kind, chance the
# order goes on to it from the previous one, median hours from the previous stage, lognormal sigma).
STAMPS = ("created_at", "measured_at", "designed_at", "confirmed_at", "in_stock_at", "installed_at")
PROGRESSION = (
    ("measured_at", "measured", 0.92, 40.0, 0.7),
    ("designed_at", "designed", 0.93, 60.0, 0.6),
    ("confirmed_at", "confirmed", 0.80, 72.0, 0.8),
    ("in_stock_at", "in_stock", 0.98, 15 * 24.0, 0.4),
    ("installed_at", "installed", 0.98, 4 * 24.0, 0.6),
)
EVENT_KINDS = ("created",) + tuple(p[1] for p in PROGRESSION)
SIGN = (0.97, 3.0, 1.0)  # after installing: the customer signs (chance, median hours, sigma)
VISIT = (0.85, 5 * 24.0, 0.5)  # after signing: the after-sales call reaches them
CANCEL = (0.97, 5 * 24.0, 0.8)  # a drop-out is cancelled (chance, median hours after its last stage)
BUSIER = 1.0  # the newest day gets (1 + BUSIER) times the orders of the oldest

# The order states, as small integers while generating.
STATE_NAMES = [s.value for s in OrderState]
S = {s: i for i, s in enumerate(OrderState)}
OPEN_AT_STAGE = (OrderState.CREATED, OrderState.MEASURED, OrderState.DESIGNED, OrderState.CONFIRMED,
                 OrderState.IN_STOCK, OrderState.INSTALLED)  # fmt: skip
SCHEDULED_AT_STAGE = {0: OrderState.MEASURE_SCHEDULED, 4: OrderState.INSTALL_SCHEDULED}
SCORE_VALUES = np.array([1, 2, 3, 4, 5])
SCORE_WEIGHTS = np.array([0.02, 0.03, 0.10, 0.35, 0.50])
CANCEL_REASONS = ("客户预算不够", "客户选了别家", "房子暂不装修", "价格没谈拢", "客户联系不上")
ROADS = ("人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "长江路", "黄河路", "滨江大道", "世纪大道")

ORDER_COLUMNS = [
    "id", "number", "customer_id", "address", "state", "sales_id", "org_unit_id", "expected_measure_date", "note",
    "contract_amount", "list_amount", "discount_amount", "paid_amount", "cancel_reason", "created_at", "updated_at",
    "measured_at", "designed_at", "confirmed_at", "in_stock_at", "installed_at", "signed_at", "visited_at",
    "state_since",
]  # fmt: skip
EVENT_COLUMNS = ["id", "order_id", "actor_id", "kind", "payload", "created_at"]
VISIT_COLUMNS = [
    "id", "order_id", "task_id", "caller_id", "reached", "notes", "score_sales", "score_measurer",
    "score_installer", "comment_sales", "comment_measurer", "comment_installer", "created_at",
]  # fmt: skip
ROLES = ("sales", "measurer", "installer")
ITEM_COLUMNS = ["id", "order_id", "series", "model", "room", "quantity", "list_price", "unit_price", "amount"]
PAYMENT_COLUMNS = ["id", "order_id", "amount", "method", "kind", "note", "created_at", "voided_at", "void_reason",
                   "confirmed_at"]  # fmt: skip
# Money: (series, list price range in yuan); 1-3 lines an order, 1-4 of each; a line 0-15 % off, two in five
# orders a little off the whole order; one order in ten from before prices (a typed contract, no lines).
SERIES = (("淋浴房", 1800, 6800), ("浴室柜", 1200, 5200), ("门窗", 900, 3800), ("木门", 1500, 4200),
          ("定制衣柜", 3000, 12000), ("橱柜", 4000, 15000), ("瓷砖", 80, 460), ("地板", 160, 520))  # fmt: skip
UNPRICED = 0.10
DEPOSIT = (0.97, 0.3, 0.5)  # on confirming: chance, share of the contract (low, high)
BALANCE = (0.90, 48.0, 0.8)  # after installing: chance the rest is paid, median hours after, sigma
VOIDED = 0.03  # a payment first recorded wrong, voided and recorded again
UNCONFIRMED_DAYS = 3.0  # finance confirms a payment within days: the newest are often 待确认


# --- the org tree, staff, customers ---------------------------------------------------------------------


@dataclass
class Org:
    company: int
    regions: list[int]  # ids, in REGIONS order
    region_names: list[str]
    stores: list[int]  # ids: 20 a region, region by region
    store_names: list[str]
    store_region: list[int]  # index into regions, per store
    sales: list[int]  # the salesperson of each store, same order as stores
    top_manager: int
    store_manager: int
    store: int  # the store manager's store id
    after_sales: int
    customers: int  # ids 1..customers


async def create_org(conn: asyncpg.Connection, vault: PiiVault, *, customers: int, store_index: int) -> Org:
    now = datetime.now(UTC)

    async def unit(name: str, parent: int | None, parent_path: str) -> int:
        uid = await conn.fetchval(
            "INSERT INTO org_unit (name, parent_id, path) VALUES ($1, $2, '') RETURNING id", name, parent
        )
        await conn.execute("UPDATE org_unit SET path = $1 WHERE id = $2", f"{parent_path}{uid}/", uid)
        return int(uid)

    async def staff(userid: str, name: str, roles: list[str], unit_id: int, score: float | None = None) -> int:
        return int(
            await conn.fetchval(
                "INSERT INTO staff (userid, name, roles, org_unit_id, active, score, created_at) "
                "VALUES ($1, $2, $3, $4, true, $5, $6) RETURNING id",
                userid,
                name,
                json.dumps(roles),
                unit_id,
                score,
                now,
            )
        )

    company = await unit(COMPANY, None, "/")
    regions, region_names, stores, store_names, store_region = [], [], [], [], []
    for r, (region, cities) in enumerate(REGIONS.items()):
        rid = await unit(region, company, f"/{company}/")
        regions.append(rid)
        region_names.append(region)
        for city in cities:
            for suffix in STORE_SUFFIX:
                name = city + suffix
                stores.append(await unit(name, rid, f"/{company}/{rid}/"))
                store_names.append(name)
                store_region.append(r)
    rng = np.random.default_rng(7)
    sales = [
        await staff(
            f"bench-sales-{i + 1:03d}", f"{store_names[i]}销售", ["sales"], sid, round(3.2 + rng.random() * 1.8, 2)
        )
        for i, sid in enumerate(stores)
    ]
    top = await staff("bench-boss", "朗总", ["manager"], company)
    store = stores[store_index]
    store_mgr = await staff("bench-store-manager", f"{store_names[store_index]}店长", ["manager"], store)
    after_sales = await staff("bench-after-sales", "回访专员", ["after_sales"], company)
    rows = []
    for i in range(customers):
        phone = f"139{10_000_000 + i * 7919 % 90_000_000:08d}"
        rows.append((i + 1, f"客户{i + 1:03d}", vault.encrypt(phone), vault.blind_index(phone), now))
    await conn.copy_records_to_table(
        "customer", records=rows, columns=["id", "name", "phone_encrypted", "phone_index", "created_at"]
    )
    await conn.execute("SELECT setval('customer_id_seq', $1)", customers)
    return Org(company, regions, region_names, stores, store_names, store_region, sales, top, store_mgr, store,
               after_sales, customers)  # fmt: skip


# --- the orders -----------------------------------------------------------------------------------------


@dataclass
class Window:
    name: str
    start: float  # epoch seconds, inclusive
    end: float  # exclusive


@dataclass
class Tally:
    """What the generator wrote, counted as it went: the expected figures of one period."""

    counts: Counter[str] = field(default_factory=Counter)  # stage key -> orders, whole company
    store_counts: Counter[str] = field(default_factory=Counter)
    region_counts: dict[str, np.ndarray] = field(default_factory=dict)  # stage key -> per region
    span_sum: dict[tuple[str, str], float] = field(default_factory=dict)  # (scope, label) -> days
    span_n: Counter[tuple[str, str]] = field(default_factory=Counter)
    score_sum: dict[tuple[str, str], float] = field(default_factory=dict)  # (scope, role) -> sum
    score_n: Counter[tuple[str, str]] = field(default_factory=Counter)
    money: Counter[tuple[str, str]] = field(default_factory=Counter)  # (scope, figure) -> cents or orders
    series: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (scope, series, figure)

    def avg_days(self, scope: str) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for label, _, _ in DURATIONS:
            n = self.span_n[(scope, label)]
            out[label] = round(self.span_sum.get((scope, label), 0.0) / n, 1) if n else None
        return out

    def scores(self, scope: str) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for role in ROLES:
            n = self.score_n[(scope, role)]
            out[role] = round(self.score_sum.get((scope, role), 0.0) / n, 2) if n else None
        return out


@dataclass
class Batch:
    orders: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]
    visits: list[tuple[Any, ...]]
    items: list[tuple[Any, ...]] = field(default_factory=list)
    payments: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class Priced:
    """One batch's money, in cents (-1 for none): per order, then its lines and payments."""

    contract: np.ndarray
    list_amount: np.ndarray
    discount: np.ndarray
    paid: np.ndarray  # the standing payments' total, as workflow.owed keeps it on the order
    items: list[tuple[Any, ...]]
    payments: list[tuple[Any, ...]]


def cents(value: int) -> Decimal | None:
    return None if value < 0 else Decimal(value).scaleb(-2)


def to_datetimes(values: np.ndarray) -> list[datetime | None]:
    """Epoch seconds (NaN for none) as timezone-aware UTC datetimes."""
    fromts = datetime.fromtimestamp
    return [None if v != v else fromts(v, UTC) for v in values.tolist()]


class Generator:
    def __init__(self, org: Org, *, seed: int, now: float, windows: list[Window], years: float = 3.0) -> None:
        self.org = org
        self.rng = np.random.default_rng(seed)
        self.now = now
        self.windows = windows
        today = local_today()
        self.first_day = today - timedelta(days=round(365 * years) - 1)
        self.days = (today - self.first_day).days + 1
        self.base = datetime.combine(self.first_day, datetime.min.time(), LOCAL_TZ).timestamp()  # no DST in China
        self.dates = [self.first_day + timedelta(days=i) for i in range(self.days + 8)]
        self.store_ids = np.array(org.stores)
        self.store_region = np.array(org.store_region)
        self.sales_ids = np.array(org.sales)
        self.store_index = org.stores.index(org.store)
        self.addresses = [
            f"{city}市{road}{n}号{b}栋{u}室"
            for city in [c for cities in REGIONS.values() for c in cities]
            for road, n, b, u in [(ROADS[(len(city) * 7 + k) % len(ROADS)], 10 + k * 37, 1 + k % 9, 101 + k * 3)
                                  for k in range(8)]
        ]  # fmt: skip
        self.tallies = {w.name: Tally() for w in windows}
        for t in self.tallies.values():
            t.region_counts = {key: np.zeros(len(org.regions), dtype=np.int64) for key, _, _ in STAGES}
        self.states = Counter[tuple[str, str]]()  # (scope, state) -> orders, now
        self.next_event = 1
        self.next_visit = 1
        self.next_item = 1
        self.next_payment = 1
        self.money_rng = np.random.default_rng(seed + 1)  # its own stream: the stage figures stay as they were
        self.outstanding = Counter[str]()  # scope -> cents owed now, and scope + "_orders"
        self.counts = Counter[str]()

    def lognormal_hours(self, median: float, sigma: float, n: int) -> np.ndarray:
        return self.rng.lognormal(math.log(median * 3600.0), sigma, n)

    def plan(self, total: int) -> None:
        """Every order's creation time, in order: ids (and the table's rows) follow creation, as in Relay."""
        rng, now = self.rng, self.now
        # A day in the window, later days likelier (density 1 + BUSIER·x), in shop hours (09-21 local).
        u = rng.random(total)
        x = (np.sqrt(1 + 2 * BUSIER * u * (1 + BUSIER / 2)) - 1) / BUSIER
        day = np.minimum((x * self.days).astype(np.int64), self.days - 1)
        created = self.base + day * 86400.0 + (9 + 12 * rng.beta(2, 2, total)) * 3600.0
        future = created > now
        created[future] = now - rng.random(int(future.sum())) * 6 * 3600.0
        created.sort()
        self.created = created

    def batch(self, first_id: int, n: int) -> Batch:
        rng, now = self.rng, self.now
        ids = np.arange(first_id, first_id + n)
        created = self.created[first_id - 1 : first_id - 1 + n]
        day = np.floor((created - self.base) / 86400.0).astype(np.int64)
        store = rng.integers(0, len(self.store_ids), n)

        # Each later stage: reached with some chance, hours to days after the previous one, not after now.
        stamps = np.full((len(STAMPS), n), np.nan)
        stamps[0] = created
        reached = np.ones(n, dtype=bool)
        prev = created.copy()
        furthest = np.zeros(n, dtype=np.int64)
        pending = np.zeros(n, dtype=bool)  # would go on, but the next stage is still ahead
        dropped = np.zeros(n, dtype=bool)  # will not go on
        for k, (_, _, chance, median, sigma) in enumerate(PROGRESSION, start=1):
            goes = rng.random(n) < chance
            at = prev + self.lognormal_hours(median, sigma, n)
            dropped |= reached & ~goes
            pending |= reached & goes & (at > now)
            ok = reached & goes & (at <= now)
            stamps[k] = np.where(ok, at, np.nan)
            prev = np.where(ok, at, prev)
            furthest[ok] = k
            reached = ok
        installed = reached
        signed_at = np.where(installed, stamps[5] + self.lognormal_hours(SIGN[1], SIGN[2], n), np.nan)
        signed = installed & (rng.random(n) < SIGN[0]) & (signed_at <= now)
        signed_at = np.where(signed, signed_at, np.nan)
        visited_at = np.where(signed, signed_at + self.lognormal_hours(VISIT[1], VISIT[2], n), np.nan)
        visited = signed & (rng.random(n) < VISIT[0]) & (visited_at <= now)
        visited_at = np.where(visited, visited_at, np.nan)

        # The state follows the furthest stage; drop-outs before installing are mostly cancelled.
        last = prev
        cancel_at = last + self.lognormal_hours(CANCEL[1], CANCEL[2], n)
        cancelled = dropped & (furthest < 5) & (cancel_at <= now) & (rng.random(n) < CANCEL[0])
        state = np.array([S[OPEN_AT_STAGE[k]] for k in range(len(OPEN_AT_STAGE))])[furthest]
        scheduled = pending & (rng.random(n) < 0.6)
        for k, s in SCHEDULED_AT_STAGE.items():
            state[scheduled & (furthest == k)] = S[s]
        state[signed] = S[OrderState.SIGNED]
        state[visited] = S[OrderState.VISITED]
        state[cancelled] = S[OrderState.CANCELLED]
        since = np.where(cancelled, cancel_at, last)
        since = np.where(signed, signed_at, since)
        since = np.where(visited, visited_at, since)

        # After-sales calls: one reached call per visited order (scores 1-5, now and then one left out),
        # and for one in ten an unanswered call the day before.
        v_idx = np.flatnonzero(visited)
        scores = rng.choice(SCORE_VALUES, size=(3, len(v_idx)), p=SCORE_WEIGHTS).astype(float)
        scores[rng.random((3, len(v_idx))) < 0.05] = np.nan
        missed = v_idx[rng.random(len(v_idx)) < 0.10]

        self._tally(store, stamps, v_idx, visited_at, scores, state)
        priced = self._priced(ids, store, stamps, cancelled)
        batch = self._records(ids, store, day, stamps, state, cancelled, signed_at, visited_at, since, v_idx,
                              scores, missed, priced)  # fmt: skip
        batch.items, batch.payments = priced.items, priced.payments
        return batch

    def _priced(self, ids: np.ndarray, store: np.ndarray, stamps: np.ndarray, cancelled: np.ndarray) -> Priced:
        """Priced lines and contracts (at sale, so orders not confirmed yet have them too), payments on
        confirmed orders: a deposit on confirming, the rest some days after installing (or not yet), now and
        then one recorded wrong and voided; the newest not yet confirmed by finance. Tallied as it goes."""
        rng, n, now = self.money_rng, len(ids), self.now
        confirmed_at, installed_at = stamps[3], stamps[5]
        confirmed = ~np.isnan(confirmed_at)
        priced = rng.random(n) >= UNPRICED
        # The lines of the priced orders.
        per = np.where(priced, rng.integers(1, 4, n), 0)
        line_order = np.repeat(np.arange(n), per)
        k = len(line_order)
        series = rng.integers(0, len(SERIES), k)
        low = np.array([s[1] for s in SERIES])[series]
        high = np.array([s[2] for s in SERIES])[series]
        list_price = (rng.integers(low, high + 1) * 100).astype(np.int64)  # whole yuan, in cents
        off = rng.choice(np.array([0, 0, 0, 5, 8, 10, 15]), k)
        unit_price = list_price * (100 - off) // 100
        qty = rng.integers(1, 5, k)
        amount = unit_price * qty
        list_amount = np.bincount(line_order, weights=list_price * qty, minlength=n).astype(np.int64)
        lines = np.bincount(line_order, weights=amount, minlength=n).astype(np.int64)
        discount = np.where(rng.random(n) < 0.4, rng.integers(0, 501, n) * 100, 0)
        discount = np.minimum(discount, lines)
        typed = rng.integers(50, 801, n) * 10_000  # before prices: 5,000-80,000 yuan, typed when confirmed
        contract = np.where(priced, lines - discount, np.where(confirmed, typed, -1))
        list_out = np.where(priced, list_amount, -1)
        discount_out = np.where(priced, discount, 0)  # off the whole order (the lines' own are in their prices)
        id_list = ids.tolist()
        first = self.next_item
        self.next_item += k
        names = [SERIES[i][0] for i in series.tolist()]
        items = [
            (first + j, id_list[o], names[j], f"{names[j][:2]}-{j % 7 + 1:02d}", "", q, cents(lp), cents(up), cents(a))
            for j, (o, q, lp, up, a) in enumerate(
                zip(line_order.tolist(), qty.tolist(), list_price.tolist(), unit_price.tolist(), amount.tolist(),
                    strict=True)
            )
        ]  # fmt: skip

        # Payments: (order index, cents, at, voided); then when finance confirmed each.
        owing = confirmed & (contract > 0)
        deposit = np.where(
            owing & (rng.random(n) < DEPOSIT[0]),
            (contract * rng.uniform(DEPOSIT[1], DEPOSIT[2], n) // 10_000) * 10_000,  # whole hundreds of yuan
            0,
        ).astype(np.int64)
        deposit_at = confirmed_at + rng.uniform(0, 3600, n)
        balance_at = installed_at + self.lognormal_hours(BALANCE[1], BALANCE[2], n)
        with np.errstate(invalid="ignore"):
            pays_rest = owing & ~np.isnan(installed_at) & (rng.random(n) < BALANCE[0]) & (balance_at <= now)
        rest = np.where(pays_rest, contract - deposit, 0)
        pay_order = np.concatenate([np.flatnonzero(deposit > 0), np.flatnonzero(rest > 0)])
        pay_cents = np.concatenate([deposit[deposit > 0], rest[rest > 0]])
        pay_at = np.concatenate([deposit_at[deposit > 0], balance_at[rest > 0]])
        pay_kind = ["deposit"] * int((deposit > 0).sum()) + ["balance"] * int((rest > 0).sum())
        wrong = rng.random(len(pay_order)) < VOIDED
        # A wrong one recorded ten minutes before the right one, voided five minutes later.
        pay_order = np.concatenate([pay_order, pay_order[wrong]])
        pay_at = np.concatenate([pay_at, pay_at[wrong] - 600])
        pay_cents = np.concatenate([pay_cents, pay_cents[wrong] + rng.integers(1, 50, int(wrong.sum())) * 1000])
        pay_kind += [k for k, w in zip(pay_kind, wrong.tolist(), strict=True) if w]
        voided = np.concatenate([np.zeros(len(wrong), dtype=bool), np.ones(int(wrong.sum()), dtype=bool)])
        age_days = (now - pay_at) / 86400.0
        confirmed_pay = (age_days > UNCONFIRMED_DAYS) | (rng.random(len(pay_at)) < age_days / UNCONFIRMED_DAYS)
        confirm_at = pay_at + np.minimum(age_days * 86400.0, rng.uniform(600, UNCONFIRMED_DAYS * 86400.0, len(pay_at)))
        sort = np.argsort(pay_at, kind="stable")
        first = self.next_payment
        self.next_payment += len(sort)
        at_dt = to_datetimes(pay_at)
        void_dt = to_datetimes(pay_at + 300)
        confirm_dt = to_datetimes(confirm_at)
        payments = [
            (first + j, id_list[pay_order[i]], cents(int(pay_cents[i])), "transfer", pay_kind[i],
             "", at_dt[i], void_dt[i] if voided[i] else None, "金额录错" if voided[i] else None,
             confirm_dt[i] if confirmed_pay[i] and not voided[i] else None)
            for j, i in enumerate(sort.tolist())
        ]  # fmt: skip

        # The tallies: per window, and what is owed now.
        mine = store == self.store_index
        live = ~cancelled
        standing = ~voided
        paid = np.bincount(pay_order[standing], weights=pay_cents[standing], minlength=n).astype(np.int64)
        owed = np.where(confirmed & live & (contract >= 0), contract - paid, 0)
        for scope, m in (("all", np.ones(n, dtype=bool)), ("store", mine)):
            self.outstanding[scope] += int(owed[m & (owed > 0)].sum())
            self.outstanding[scope + "_orders"] += int((m & (owed > 0)).sum())
        for w in self.windows:
            t = self.tallies[w.name]
            with np.errstate(invalid="ignore"):
                inside = confirmed & live & (contract >= 0) & (confirmed_at >= w.start) & (confirmed_at < w.end)
            p_in = standing & (pay_at >= w.start) & (pay_at < w.end)
            lines_in = inside[line_order]
            for scope, m in (("all", np.ones(n, dtype=bool)), ("store", mine)):
                sel = inside & m
                t.money[(scope, "contract")] += int(contract[sel].sum())
                t.money[(scope, "contract_orders")] += int(sel.sum())
                t.money[(scope, "list")] += int(list_amount[sel & priced].sum())
                t.money[(scope, "priced")] += int(contract[sel & priced].sum())
                ps = p_in & m[pay_order]
                t.money[(scope, "collected")] += int(pay_cents[ps].sum())
                t.money[(scope, "collected_confirmed")] += int(pay_cents[ps & confirmed_pay].sum())
                ls = lines_in & m[line_order]
                for s_i, (name, _, _) in enumerate(SERIES):
                    one = ls & (series == s_i)
                    t.series[(scope, name, "amount")] += int(amount[one].sum())
                    t.series[(scope, name, "quantity")] += int(qty[one].sum())
                    t.series[(scope, name, "orders")] += len(np.unique(line_order[one]))
        self.counts["order_item"] += len(items)
        self.counts["payment"] += len(payments)
        return Priced(contract, list_out, discount_out, paid, items, payments)

    def _tally(
        self,
        store: np.ndarray,
        stamps: np.ndarray,
        v_idx: np.ndarray,
        visited_at: np.ndarray,
        scores: np.ndarray,
        state: np.ndarray,
    ) -> None:
        mine = store == self.store_index
        region = self.store_region[store]
        col = {name: i for i, name in enumerate(STAMPS)}
        for w in self.windows:
            t = self.tallies[w.name]
            with np.errstate(invalid="ignore"):
                for key, stamp, _ in STAGES:
                    inside = (stamps[col[stamp]] >= w.start) & (stamps[col[stamp]] < w.end)
                    t.counts[key] += int(inside.sum())
                    t.store_counts[key] += int((inside & mine).sum())
                    t.region_counts[key] += np.bincount(region[inside], minlength=len(self.org.regions))
                for label, start, end in DURATIONS:
                    s, e = stamps[col[start]], stamps[col[end]]
                    inside = (e >= w.start) & (e < w.end) & ~np.isnan(s)
                    for scope, m in (("all", inside), ("store", inside & mine)):
                        t.span_sum[(scope, label)] = t.span_sum.get((scope, label), 0.0) + float(
                            ((e[m] - s[m]) / 86400.0).sum()
                        )
                        t.span_n[(scope, label)] += int(m.sum())
                v_in = (visited_at[v_idx] >= w.start) & (visited_at[v_idx] < w.end)
                v_mine = mine[v_idx]
                for r, role in enumerate(ROLES):
                    has = v_in & ~np.isnan(scores[r])
                    for scope, m in (("all", has), ("store", has & v_mine)):
                        t.score_sum[(scope, role)] = t.score_sum.get((scope, role), 0.0) + float(scores[r][m].sum())
                        t.score_n[(scope, role)] += int(m.sum())
        for s, n in zip(*np.unique(state, return_counts=True), strict=True):
            self.states[("all", STATE_NAMES[s])] += int(n)
        for s, n in zip(*np.unique(state[mine], return_counts=True), strict=True):
            self.states[("store", STATE_NAMES[s])] += int(n)

    def _records(
        self,
        ids: np.ndarray,
        store: np.ndarray,
        day: np.ndarray,
        stamps: np.ndarray,
        state: np.ndarray,
        cancelled: np.ndarray,
        signed_at: np.ndarray,
        visited_at: np.ndarray,
        since: np.ndarray,
        v_idx: np.ndarray,
        scores: np.ndarray,
        missed: np.ndarray,
        priced: Priced,
    ) -> Batch:
        rng, n = self.rng, len(ids)
        dts = [to_datetimes(stamps[k]) for k in range(len(STAMPS))]
        signed_dt, visited_dt, since_dt = to_datetimes(signed_at), to_datetimes(visited_at), to_datetimes(since)
        id_list = ids.tolist()
        reason_idx = rng.integers(0, len(CANCEL_REASONS), n).tolist()
        reasons = [CANCEL_REASONS[r] if c else "" for r, c in zip(reason_idx, cancelled.tolist(), strict=True)]
        measure_day = (day + rng.integers(1, 4, n)).tolist()
        orders = list(
            zip(
                id_list,
                [f"LS{i:08d}" for i in id_list],
                rng.integers(1, self.org.customers + 1, n).tolist(),
                [self.addresses[a] for a in rng.integers(0, len(self.addresses), n).tolist()],
                [STATE_NAMES[s] for s in state.tolist()],
                self.sales_ids[store].tolist(),
                self.store_ids[store].tolist(),
                [self.dates[d] for d in measure_day],
                [""] * n,
                [cents(c) for c in priced.contract.tolist()],
                [cents(c) for c in priced.list_amount.tolist()],
                [Decimal(c).scaleb(-2) for c in priced.discount.tolist()],
                [Decimal(c).scaleb(-2) for c in priced.paid.tolist()],
                reasons,
                dts[0],
                since_dt,  # updated_at: the last change
                *dts[1:],
                signed_dt,
                visited_dt,
                since_dt,
                strict=True,
            )
        )
        # One event per stage reached, in each order's own order.
        which = [np.flatnonzero(~np.isnan(stamps[k])) for k in range(len(STAMPS))]
        ev_order = np.concatenate(which)
        ev_stage = np.concatenate([np.full(len(w), k) for k, w in enumerate(which)])
        sort = np.lexsort((ev_stage, ev_order))
        ev_order, ev_stage = ev_order[sort].tolist(), ev_stage[sort].tolist()
        first = self.next_event
        self.next_event += len(ev_order)
        # The payloads the timeline reads (photos, drawings, the contract amount), as Relay writes them.
        contract = priced.contract.tolist()
        payloads = {1: '{"photos": 6, "drawings": 1}', 5: '{"photos": 2}'}
        events = [
            (first + j, id_list[i], None, EVENT_KINDS[k],
             json.dumps({"amount": str(cents(contract[i]))}) if k == 3 else payloads.get(k, "{}"), dts[k][i])
            for j, (i, k) in enumerate(zip(ev_order, ev_stage, strict=True))
        ]  # fmt: skip
        # The calls: the unanswered one first, a day before the reached one.
        visits: list[tuple[Any, ...]] = []
        missed_set = set(missed.tolist())
        caller = self.org.after_sales
        score_lists = [[None if v != v else int(v) for v in scores[r].tolist()] for r in range(3)]
        for j, i in enumerate(v_idx.tolist()):
            at = visited_dt[i]
            assert at is not None
            if i in missed_set:
                visits.append(
                    (self.next_visit, id_list[i], None, caller, False, "未接通", None, None, None, "", "", "",
                     at - timedelta(days=1))
                )  # fmt: skip
                self.next_visit += 1
            visits.append(
                (self.next_visit, id_list[i], None, caller, True, "", score_lists[0][j], score_lists[1][j],
                 score_lists[2][j], "", "", "", at)
            )  # fmt: skip
            self.next_visit += 1
        self.counts["order"] += n
        self.counts["order_event"] += len(events)
        self.counts["visit"] += len(visits)
        return Batch(orders, events, visits)


@dataclass
class Load:
    seconds: float
    generate_seconds: float
    copy_seconds: float
    vacuum_seconds: float
    rows: dict[str, int]
    table_sizes: dict[str, str]


async def load_orders(conn: asyncpg.Connection, gen: Generator, *, orders: int, batch: int) -> Load:
    started = time.perf_counter()
    gen_s = copy_s = 0.0
    done = 0
    while done < orders:
        n = min(batch, orders - done)
        t0 = time.perf_counter()
        rows = gen.batch(done + 1, n)
        t1 = time.perf_counter()
        async with conn.transaction():
            await conn.copy_records_to_table("order", records=rows.orders, columns=ORDER_COLUMNS)
            await conn.copy_records_to_table("order_event", records=rows.events, columns=EVENT_COLUMNS)
            if rows.visits:
                await conn.copy_records_to_table("visit", records=rows.visits, columns=VISIT_COLUMNS)
            if rows.items:
                await conn.copy_records_to_table("order_item", records=rows.items, columns=ITEM_COLUMNS)
            if rows.payments:
                await conn.copy_records_to_table("payment", records=rows.payments, columns=PAYMENT_COLUMNS)
        t2 = time.perf_counter()
        gen_s += t1 - t0
        copy_s += t2 - t1
        done += n
        if done == orders or (done // batch) % 4 == 0:
            rate = done / (time.perf_counter() - started)
            print(f"  {done:>9,} orders loaded ({rate:,.0f} orders/s; generating {gen_s:.0f}s, COPY {copy_s:.0f}s)",
                  flush=True)  # fmt: skip
    for table, seq in (("order", "order_id_seq"), ("order_event", "order_event_id_seq"), ("visit", "visit_id_seq"),
                       ("order_item", "order_item_id_seq"), ("payment", "payment_id_seq")):  # fmt: skip
        await conn.execute(f"SELECT setval('{seq}', (SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))")
    print("  VACUUM ANALYZE …", flush=True)
    t0 = time.perf_counter()
    # VACUUM as well as ANALYZE: autovacuum would otherwise start on the fresh tables during the timings.
    await conn.execute("VACUUM (ANALYZE)")
    vacuum_s = time.perf_counter() - t0
    total = time.perf_counter() - started
    rows_now = {}
    sizes = {}
    for table in ("org_unit", "staff", "customer", "order", "order_event", "visit", "order_item", "payment"):
        rows_now[table] = int(await conn.fetchval(f'SELECT count(*) FROM "{table}"'))
        sizes[table] = str(await conn.fetchval(f"SELECT pg_size_pretty(pg_total_relation_size('\"{table}\"'))"))
    return Load(total, gen_s, copy_s, vacuum_s, rows_now, sizes)


# --- timing Relay ---------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str  # e.g. "top manager · 本月"
    viewer: str  # "top" or "store"
    window: str  # "this" or "prev"
    period_text: str
    seconds: list[float] = field(default_factory=list)
    stats: Stats | None = None

    @property
    def cold(self) -> float:
        return self.seconds[0]

    @property
    def rest(self) -> list[float]:
        return self.seconds[1:] or self.seconds

    @property
    def median(self) -> float:
        return statistics.median(self.rest)


@dataclass
class Statement:
    sql: str
    values: list[Any]
    ms: float
    rows: int


@contextlib.contextmanager
def recording() -> Any:
    """Every statement Relay sends through tortoise while inside, with its time (this process only)."""
    cls = type(db())
    original = cls.execute_query
    seen: list[Statement] = []

    async def execute_query(self: Any, query: str, values: list[Any] | None = None) -> Any:
        t0 = time.perf_counter()
        result = await original(self, query, values)
        seen.append(Statement(query, list(values or []), (time.perf_counter() - t0) * 1000, len(result[1])))
        return result

    cls.execute_query = execute_query  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        cls.execute_query = original  # type: ignore[method-assign]


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = await fn()
    return time.perf_counter() - t0, result


def bench_config(database_url: str, storage: Path) -> Config:
    return load_config(
        None,
        env={},
        overrides={
            "server": {"host": "127.0.0.1", "port": 9, "public_url": "http://127.0.0.1:9"},
            "database": {"url": database_url},
            "redis": {"url": ""},  # in-process store: nothing here needs Redis
            "wecom": {
                "corp_id": "wwbenchstats00001",
                "agent_id": 1000002,
                "secret": secrets.token_urlsafe(24),
                "token": secrets.token_hex(8),
                "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
                "api_base": "http://127.0.0.1:9/cgi-bin/",  # never called: background=False, no cards sent
                "oauth_url": "http://127.0.0.1:9/connect/oauth2/authorize",
            },
            "storage": {"path": str(storage)},
            "security": {
                "secret_key": secrets.token_urlsafe(32),
                "pii_key": "relay-bench-pii-key-of-thirty-two-characters",
            },
            "schedule": {"automatic": False},
        },
    )


# --- checks ---------------------------------------------------------------------------------------------


@dataclass
class Check:
    what: str
    relay: Any
    expected: Any  # the generator's tally
    sql: Any  # an independent SQL count
    ok: bool


def close(a: float | None, b: float | None, tol: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol


async def independent_counts(
    conn: asyncpg.Connection, window: Window, store: int | None
) -> tuple[dict[str, int], dict[str, float | None]]:
    start, end = datetime.fromtimestamp(window.start, UTC), datetime.fromtimestamp(window.end, UTC)
    cols = ", ".join(f"count(*) FILTER (WHERE {stamp} >= $1 AND {stamp} < $2) AS {key}" for key, stamp, _ in STAGES)
    spans = ", ".join(
        f"avg(EXTRACT(EPOCH FROM {e}) - EXTRACT(EPOCH FROM {s})) FILTER "
        f"(WHERE {e} >= $1 AND {e} < $2 AND {s} IS NOT NULL) / 86400 AS d{i}"
        for i, (_, s, e) in enumerate(DURATIONS)
    )
    where = "" if store is None else "WHERE org_unit_id = $3"
    args: list[Any] = [start, end] + ([] if store is None else [store])
    row = await conn.fetchrow(f'SELECT {cols}, {spans} FROM "order" {where}', *args)
    counts = {key: int(row[key]) for key, _, _ in STAGES}
    days = {label: (None if row[f"d{i}"] is None else round(float(row[f"d{i}"]), 1)) for i, (label, _, _) in
            enumerate(DURATIONS)}  # fmt: skip
    return counts, days


async def check_case(conn: asyncpg.Connection, case: Case, org: Org, gen: Generator, window: Window) -> list[Check]:
    stats = case.stats
    assert stats is not None
    tally = gen.tallies[window.name]
    store = org.store if case.viewer == "store" else None
    scope = "store" if store else "all"
    sql_counts, sql_days = await independent_counts(conn, window, store)
    expected_counts = dict(tally.store_counts if store else tally.counts)
    checks = [
        Check(
            "counts (新建/测量/设计/入库/安装)",
            [stats.total.counts.get(k, 0) for k, _, _ in STAGES],
            [expected_counts.get(k, 0) for k, _, _ in STAGES],
            [sql_counts[k] for k, _, _ in STAGES],
            False,
        )
    ]
    checks[-1].ok = checks[-1].relay == checks[-1].expected == checks[-1].sql
    if store is None:
        relay_regions = {u.name: [f.counts.get(k, 0) for k, _, _ in STAGES] for u, f in stats.by_unit}
        expected_regions = {
            name: [int(tally.region_counts[k][r]) for k, _, _ in STAGES] for r, name in enumerate(org.region_names)
        }
        start, end = datetime.fromtimestamp(window.start, UTC), datetime.fromtimestamp(window.end, UTC)
        cols = ", ".join(f"count(*) FILTER (WHERE o.{stamp} >= $1 AND o.{stamp} < $2)" for _, stamp, _ in STAGES)
        rows = await conn.fetch(
            f'SELECT r.name, {cols} FROM "order" o JOIN org_unit s ON s.id = o.org_unit_id '
            "JOIN org_unit r ON r.id = s.parent_id GROUP BY r.name",
            start,
            end,
        )
        sql_regions = {r[0]: [int(v) for v in list(r)[1:]] for r in rows}
        checks.append(
            Check(
                "by region (6 × 5 counts)",
                "same" if relay_regions == expected_regions else relay_regions,
                "same" if expected_regions == sql_regions else expected_regions,
                "same" if sql_regions == relay_regions else sql_regions,
                relay_regions == expected_regions == sql_regions,
            )
        )
    # Waiting: orders open now, by state.
    where = "" if store is None else "AND org_unit_id = $2"
    args: list[Any] = [[s.value for s in OPEN_ORDER_STATES]] + ([] if store is None else [store])
    rows = await conn.fetch(f'SELECT state, count(*) FROM "order" WHERE state = ANY($1) {where} GROUP BY state', *args)
    sql_waiting = {str(r[0]): int(r[1]) for r in rows}
    relay_waiting = {s.value: n for s, n in stats.waiting.items()}
    expected_waiting = {
        s.value: gen.states[(scope, s.value)] for s in OPEN_ORDER_STATES if gen.states[(scope, s.value)]
    }
    checks.append(
        Check(
            "waiting (open orders by state)",
            sum(relay_waiting.values()),
            sum(expected_waiting.values()),
            sum(sql_waiting.values()),
            relay_waiting == expected_waiting == sql_waiting,
        )
    )
    expected_days = tally.avg_days(scope)
    days_ok = all(
        close(stats.avg_days[label], expected_days[label], 0.11) and close(stats.avg_days[label], sql_days[label], 0.0)
        for label, _, _ in DURATIONS
    )
    checks.append(
        Check(
            "avg days per stage",
            [stats.avg_days[label] for label, _, _ in DURATIONS],
            [expected_days[label] for label, _, _ in DURATIONS],
            [sql_days[label] for label, _, _ in DURATIONS],
            days_ok,
        )
    )
    expected_scores = tally.scores(scope)
    checks.append(
        Check(
            "after-sales scores (sales/measurer/installer)",
            [stats.scores[r] for r in ROLES],
            [expected_scores[r] for r in ROLES],
            "—",
            all(close(stats.scores[r], expected_scores[r], 0.0051) for r in ROLES),
        )
    )
    checks += await check_money(conn, stats, gen, window, store)
    return checks


async def independent_money(conn: asyncpg.Connection, window: Window, store: int | None) -> dict[str, Any]:
    """The money figures in SQL written apart from Relay's: subqueries, EXISTS, GREATEST per order."""
    start, end = datetime.fromtimestamp(window.start, UTC), datetime.fromtimestamp(window.end, UTC)
    mine = "" if store is None else "AND o.org_unit_id = $3"
    args: list[Any] = [start, end] + ([] if store is None else [store])
    in_period = f"o.confirmed_at >= $1 AND o.confirmed_at < $2 AND o.state <> 'cancelled' {mine}"
    row = await conn.fetchrow(
        f"""SELECT
          (SELECT coalesce(sum(o.contract_amount), 0) FROM "order" o WHERE {in_period}) AS contract,
          (SELECT count(o.contract_amount) FROM "order" o WHERE {in_period}) AS contract_orders,
          (SELECT coalesce(sum(o.list_amount), 0) FROM "order" o WHERE {in_period} AND o.list_amount > 0) AS list,
          (SELECT coalesce(sum(o.contract_amount), 0) FROM "order" o WHERE {in_period} AND o.list_amount > 0)
            AS priced,
          (SELECT coalesce(sum(p.amount), 0) FROM payment p WHERE p.voided_at IS NULL AND p.created_at >= $1
             AND p.created_at < $2 AND EXISTS (SELECT 1 FROM "order" o WHERE o.id = p.order_id {mine})) AS collected,
          (SELECT coalesce(sum(p.amount), 0) FROM payment p WHERE p.voided_at IS NULL AND p.created_at >= $1
             AND p.created_at < $2 AND p.confirmed_at IS NOT NULL
             AND EXISTS (SELECT 1 FROM "order" o WHERE o.id = p.order_id {mine})) AS collected_confirmed""",
        *args,
    )
    owed = await conn.fetchrow(
        f"""SELECT coalesce(sum(owed), 0) AS outstanding, count(*) AS orders FROM (
              SELECT o.contract_amount - (SELECT coalesce(sum(p.amount), 0) FROM payment p
                                          WHERE p.order_id = o.id AND p.voided_at IS NULL) AS owed
              FROM "order" o WHERE o.confirmed_at IS NOT NULL AND o.contract_amount IS NOT NULL
                AND o.state <> 'cancelled' {mine.replace("$3", "$1")}) t WHERE owed > 0""",
        *([] if store is None else [store]),
    )
    series = await conn.fetch(
        f"""SELECT i.series, count(DISTINCT i.order_id), sum(i.quantity), sum(i.amount) FROM order_item i
            WHERE i.amount IS NOT NULL AND i.order_id IN (SELECT o.id FROM "order" o WHERE {in_period})
            GROUP BY i.series""",
        *args,
    )
    return {**dict(row), "outstanding": owed["outstanding"], "outstanding_orders": owed["orders"],
            "series": {r[0]: (int(r[1]), int(r[2]), r[3]) for r in series}}  # fmt: skip


async def check_money(
    conn: asyncpg.Connection, stats: Stats, gen: Generator, window: Window, store: int | None
) -> list[Check]:
    money = stats.total.money
    assert money is not None
    scope = "store" if store else "all"
    t = gen.tallies[window.name]
    sql = await independent_money(conn, window, store)
    figures = [
        ("contract (签约)", money.contract, cents(t.money[(scope, "contract")]), sql["contract"]),
        ("contract orders", money.contract_orders, t.money[(scope, "contract_orders")], sql["contract_orders"]),
        ("collected (回款, standing)", money.collected, cents(t.money[(scope, "collected")]), sql["collected"]),
        ("collected, confirmed by finance", money.collected_confirmed,
         cents(t.money[(scope, "collected_confirmed")]), sql["collected_confirmed"]),
        ("outstanding now (未收清)", money.outstanding, cents(gen.outstanding[scope]), sql["outstanding"]),
        ("orders owing now", money.outstanding_orders, gen.outstanding[scope + "_orders"], sql["outstanding_orders"]),
    ]  # fmt: skip
    checks = [Check(what, relay, tally, q, relay == tally == q) for what, relay, tally, q in figures]

    def discount(list_amount: Decimal, priced: Decimal) -> Decimal | None:
        return (1 - priced / list_amount).quantize(Decimal("0.0001")) if list_amount > 0 else None

    tally_discount = discount(
        cents(t.money[(scope, "list")]) or Decimal(0), cents(t.money[(scope, "priced")]) or Decimal(0)
    )
    sql_discount = discount(Decimal(sql["list"]), Decimal(sql["priced"]))
    checks.append(Check("average discount (平均优惠)", money.avg_discount, tally_discount, sql_discount,
                        money.avg_discount == tally_discount == sql_discount))  # fmt: skip
    relay_series = {s.series: (s.orders, s.quantity, s.amount) for s in stats.series}
    tally_series = {
        name: (t.series[(scope, name, "orders")], t.series[(scope, name, "quantity")],
               cents(t.series[(scope, name, "amount")]))
        for name, _, _ in SERIES
        if t.series[(scope, name, "orders")]
    }  # fmt: skip
    checks.append(
        Check(
            f"by series ({len(relay_series)} × orders/quantity/amount)",
            "same" if relay_series == tally_series else relay_series,
            "same" if tally_series == sql["series"] else tally_series,
            "same" if sql["series"] == relay_series else sql["series"],
            relay_series == tally_series == sql["series"],
        )
    )
    return checks


# --- plans ----------------------------------------------------------------------------------------------


@dataclass
class Plan:
    case: str
    ms: float
    sql: str
    values: list[Any]
    text: str


def show_value(v: Any) -> str:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, list) and len(v) > 8:
        return f"[{', '.join(map(str, v[:8]))}, … {len(v)} ids]"
    return repr(v)


async def explain(conn: asyncpg.Connection, st: Statement) -> str:
    rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + st.sql, *st.values)
    return "\n".join(r[0] for r in rows)


async def order_indexes(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch("SELECT indexdef FROM pg_indexes WHERE tablename = 'order' ORDER BY indexname")
    return [str(r[0]) for r in rows]


# --- the run --------------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def fresh_database(keep: bool) -> AsyncIterator[str]:
    name = f"relay_bench_stats_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(PG_ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield PG_BASE + name
    finally:
        if keep:
            print(f"kept database {PG_BASE + name}", flush=True)
        else:
            admin = await asyncpg.connect(PG_ADMIN)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()
            print(f"dropped database {name}", flush=True)


def previous_month(today: date) -> str:
    first = today.replace(day=1)
    last_month = first - timedelta(days=1)
    return f"统计 {last_month:%Y-%m}"


@dataclass
class Report:
    args: argparse.Namespace
    command: str
    started: datetime
    database: str
    load: Load | None = None
    org_seconds: float = 0.0
    migrate_seconds: float = 0.0
    cases: list[Case] = field(default_factory=list)
    periods: dict[str, Period] = field(default_factory=dict)
    chart_ms: float = 0.0
    chart_bytes: int = 0
    chart_font: str | None = None
    checks: dict[str, list[Check]] = field(default_factory=dict)
    statements: dict[str, list[Statement]] = field(default_factory=dict)
    plans: list[Plan] = field(default_factory=list)
    indexes: list[str] = field(default_factory=list)
    whatif: list[Case] = field(default_factory=list)
    whatif_sql: list[str] = field(default_factory=list)
    whatif_seconds: float = 0.0
    whatif_plans: list[Plan] = field(default_factory=list)
    alternatives: list[Any] = field(default_factory=list)  # Alternative
    timeline_ms: list[float] = field(default_factory=list)
    timeline_plan: str = ""
    unindexed_fks: list[str] = field(default_factory=list)  # columns referring to "order" with no index
    slow_cases: list[str] = field(default_factory=list)
    missing_indexes: list[str] = field(default_factory=list)
    explain_reason: str = ""
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)
    settings: dict[str, str] = field(default_factory=dict)
    pg_version: str = ""
    store_name: str = ""
    store_orders: int = 0
    generation_window: str = ""


async def time_cases(cases: list[Case], viewers: dict[str, Staff], periods: dict[str, Period], runs: int) -> None:
    for case in cases:
        viewer, period = viewers[case.viewer], periods[case.window]
        for i in range(runs):
            t0 = time.perf_counter()
            stats = await stats_for(viewer, period)
            seconds = time.perf_counter() - t0
            case.seconds.append(seconds)
            case.stats = stats
            print(f"  {case.name}: run {i + 1}: {seconds * 1000:,.0f} ms", flush=True)


async def run(args: argparse.Namespace) -> Report:
    report = Report(
        args,
        ".venv/bin/python bench/stats_bench.py" + "".join(f" {a}" for a in sys.argv[1:]),
        datetime.now(UTC),
        "",
    )
    storage = Path(tempfile.mkdtemp(prefix="relay-bench-stats-"))
    try:
        async with fresh_database(args.keep) as url:
            report.database = url.rsplit("/", 1)[1]
            print(f"database {url}", flush=True)
            t0 = time.perf_counter()
            await migrate(url)
            report.migrate_seconds = time.perf_counter() - t0
            config = bench_config(url, storage)
            conn = await asyncpg.connect(url)
            try:
                await _run(report, args, conn, config)
            finally:
                await conn.close()
    finally:
        shutil.rmtree(storage, ignore_errors=True)
    return report


async def _run(report: Report, args: argparse.Namespace, conn: asyncpg.Connection, config: Config) -> None:
    report.pg_version = str(await conn.fetchval("SHOW server_version"))
    for name in ("shared_buffers", "work_mem", "effective_cache_size", "max_parallel_workers_per_gather", "jit",
                 "random_page_cost"):  # fmt: skip
        report.settings[name] = str(await conn.fetchval(f"SHOW {name}"))

    # The periods are fixed before generating, so a run across local midnight still checks like with like.
    today = local_today()
    periods = {"this": parse_period("本月", today=today), "prev": parse_period(previous_month(today), today=today)}
    report.periods = periods
    windows = [Window(k, p.start_at.timestamp(), p.end_at.timestamp()) for k, p in periods.items()]

    t0 = time.perf_counter()
    org = await create_org(conn, PiiVault(config.security.pii_key), customers=args.customers, store_index=args.store)
    report.org_seconds = time.perf_counter() - t0
    report.store_name = org.store_names[args.store]
    gen = Generator(org, seed=args.seed, now=time.time(), windows=windows)
    gen.plan(args.orders)
    report.generation_window = f"{gen.first_day:%Y-%m-%d} – {today:%Y-%m-%d} ({gen.days} days)"
    print(f"generating {args.orders:,} orders over {report.generation_window}, batches of {args.batch:,}", flush=True)
    report.load = await load_orders(conn, gen, orders=args.orders, batch=args.batch)
    load = report.load
    print(
        f"loaded in {load.seconds:.1f}s (generate {load.generate_seconds:.1f}s, COPY {load.copy_seconds:.1f}s, "
        f"VACUUM ANALYZE {load.vacuum_seconds:.1f}s): " + ", ".join(f"{t} {n:,}" for t, n in load.rows.items()),
        flush=True,
    )
    report.store_orders = int(await conn.fetchval('SELECT count(*) FROM "order" WHERE org_unit_id = $1', org.store))
    report.indexes = await order_indexes(conn)

    this_label = periods["this"].label
    report.cases = [
        Case(f"top manager · 本月 ({this_label})", "top", "this", "本月"),
        Case(f"store manager · 本月 ({this_label})", "store", "this", "本月"),
        Case(f"top manager · {previous_month(today)}", "top", "prev", previous_month(today)),
        Case(f"store manager · {previous_month(today)}", "store", "prev", previous_month(today)),
    ]
    async with running_services(config, background=False):
        viewers = {"top": await Staff.get(id=org.top_manager), "store": await Staff.get(id=org.store_manager)}
        print(f"timing stats_for, {args.runs} runs a case", flush=True)
        report.load_average = os.getloadavg()
        await time_cases(report.cases, viewers, periods, args.runs)

        from cards.charts import font_file, stats_chart

        top_stats = report.cases[0].stats
        assert top_stats is not None
        seconds, png = await timed(lambda: asyncio.to_thread(stats_chart, top_stats))
        report.chart_ms, report.chart_bytes, report.chart_font = seconds * 1000, len(png), font_file().name
        print(f"  stats_chart (top manager, 6 regions): {report.chart_ms:,.0f} ms, {len(png):,} bytes", flush=True)

        # One more run of each case, recording every statement and its time.
        for case in report.cases:
            with recording() as seen:
                await stats_for(viewers[case.viewer], periods[case.window])
            report.statements[case.name] = list(seen)

        # An aside: one order's timeline (OrderEvent by order_id), as the order card shows it.
        from models import Order
        from workflow.timeline import timeline

        order = await Order.get(id=max(1, args.orders // 2))
        for _ in range(3):
            seconds, _lines = await timed(lambda: timeline(order))
            report.timeline_ms.append(seconds * 1000)

    rows = await conn.fetch(
        "EXPLAIN (ANALYZE) SELECT * FROM order_event WHERE order_id = $1 ORDER BY id", max(1, args.orders // 2)
    )
    report.timeline_plan = "\n".join(r[0] for r in rows)
    report.unindexed_fks = [
        f"{r[0]}.{r[1]}"
        for r in await conn.fetch(
            """
            SELECT c.conrelid::regclass::text, a.attname FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1 AND c.confrelid = '"order"'::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])
            ORDER BY 1
            """
        )
    ]

    print("checking the figures", flush=True)
    for case in report.cases:
        window = next(w for w in windows if w.name == case.window)
        report.checks[case.name] = await check_case(conn, case, org, gen, window)
        for c in report.checks[case.name]:
            print(f"  {case.name}: {c.what}: {'match' if c.ok else 'MISMATCH'} (relay {c.relay}, tally {c.expected}, "
                  f"sql {c.sql})", flush=True)  # fmt: skip

    # Plans: for the slow cases; and, when the migrated schema lacks the stage indexes the model declares,
    # for both managers' 本月 all the same (the figures are then one table scan each, whatever the total).
    slow = [c for c in report.cases if c.median > args.slow or c.cold > args.slow]
    report.slow_cases = [c.name for c in slow]
    report.missing_indexes = missing_stage_indexes(report.indexes)
    explained = slow or (report.cases[:2] if report.missing_indexes or args.explain else [])
    report.explain_reason = (
        f"over {args.slow:g} s" if slow else "stage indexes missing" if report.missing_indexes else "--explain"
    )
    if explained:
        print(f"explaining the slowest statements of {len(explained)} case(s)", flush=True)
    for case in explained:
        for st in distinct_slowest(report.statements[case.name], args.max_plans):
            if not any(statement_shape(p.sql) == statement_shape(st.sql) for p in report.plans):
                report.plans.append(Plan(case.name, st.ms, st.sql, st.values, await explain(conn, st)))

    if (slow or report.missing_indexes) and not args.no_what_if:
        await alternatives(report, conn, periods["this"])
        await what_if(report, args, conn, config, org, periods)


@dataclass
class Alternative:
    what: str
    relay_ms: float  # what Relay's statements for the same figures took in the recorded run
    relay_what: str
    sql: str
    ms: float = 0.0  # EXPLAIN ANALYZE execution time, best of three
    plan: str = ""


async def alternatives(report: Report, conn: asyncpg.Connection, period: Period) -> None:
    """Query changes instead of (or besides) indexes, measured on the current schema; Relay is not changed."""
    top = report.statements.get(report.cases[0].name, [])
    waiting = [st for st in top if '"state" IN' in st.sql]
    stage = [st for st in top if st.sql.lstrip().startswith("SELECT AVG") or 'GROUP BY "org_unit_id"' in st.sql]
    open_states = ", ".join(f"'{s.value}'" for s in OPEN_ORDER_STATES)
    counts = ", ".join(f"count(*) FILTER (WHERE {stamp} >= $1 AND {stamp} < $2) AS {key}" for key, stamp, _ in STAGES)
    # Sums and counts per unit, so the scope's and each child's averages follow.
    spans = ", ".join(
        f"sum(EXTRACT(EPOCH FROM ({e} - {s}))) FILTER (WHERE {e} >= $1 AND {e} < $2 AND {s} IS NOT NULL) AS s{i}, "
        f"count(*) FILTER (WHERE {e} >= $1 AND {e} < $2 AND {s} IS NOT NULL) AS n{i}"
        for i, (_, s, e) in enumerate(DURATIONS)
    )
    found = [
        Alternative(
            'the waiting count with `count(*)` instead of tortoise\'s `COUNT("id")`',
            sum(st.ms for st in waiting),
            "Relay's waiting count",
            f'SELECT state, count(*) FROM "order" WHERE state IN ({open_states}) GROUP BY state',
        ),
        Alternative(
            'the five counts by unit and the five averages in one pass over `"order"` (no new index)',
            sum(st.ms for st in stage),
            f"Relay's {len(stage)} statements for them",
            f'SELECT org_unit_id, {counts}, {spans} FROM "order" GROUP BY org_unit_id',
        ),
    ]
    for alt in found:
        best = math.inf
        for _ in range(3):
            rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + alt.sql, *(
                [period.start_at, period.end_at] if "$1" in alt.sql else []))  # fmt: skip
            text = "\n".join(r[0] for r in rows)
            took = float(text.rsplit("Execution Time:", 1)[1].split()[0])
            if took < best:
                best, alt.plan = took, text
        alt.ms = best
    report.alternatives = found


def statement_shape(sql: str) -> str:
    """The statement with its unindexed stage column taken out: the five stage counts are one shape."""
    for stamp in STAMPS[1:]:
        sql = sql.replace(stamp, "<stage>")
    return sql


def distinct_slowest(statements: list[Statement], most: int) -> list[Statement]:
    """The slowest statement of each shape, slowest first, those over EXPLAIN_MS (at least one)."""
    best: dict[str, Statement] = {}
    for st in statements:
        shape = statement_shape(st.sql)
        if shape not in best or st.ms > best[shape].ms:
            best[shape] = st
    ordered = sorted(best.values(), key=lambda s: -s.ms)
    return [s for s in ordered if s.ms >= EXPLAIN_MS][:most] or ordered[:1]


def missing_stage_indexes(indexes: list[str]) -> list[str]:
    """Stage columns (declared db_index=True in models/orders.py) that no index of "order" leads with."""
    return [stamp for stamp in STAMPS if not any(f"({stamp})" in d or f"({stamp}," in d for d in indexes)]


async def what_if(
    report: Report, args: argparse.Namespace, conn: asyncpg.Connection, config: Config, org: Org,
    periods: dict[str, Period],
) -> None:  # fmt: skip
    """The stage indexes the model declares, created in this throwaway database, and the cases timed again."""
    missing = report.missing_indexes
    if not missing:
        return
    print(f"what if: indexes on {', '.join(missing)}", flush=True)
    t0 = time.perf_counter()
    for stamp in missing:
        sql = f'CREATE INDEX bench_order_{stamp} ON "order" ({stamp})'
        await conn.execute(sql)
        report.whatif_sql.append(sql + ";")
    await conn.execute('ANALYZE "order"')
    report.whatif_seconds = time.perf_counter() - t0
    report.whatif = [Case(c.name, c.viewer, c.window, c.period_text) for c in report.cases]
    async with running_services(config, background=False):
        viewers = {"top": await Staff.get(id=org.top_manager), "store": await Staff.get(id=org.store_manager)}
        await time_cases(report.whatif, viewers, periods, args.runs)
    # The statements explained before that the new indexes concern, explained again.
    for p in [p for p in report.plans if any(m in p.sql for m in missing)][:2]:
        st = Statement(p.sql, p.values, 0.0, 0)
        report.whatif_plans.append(Plan(p.case, 0.0, p.sql, p.values, await explain(conn, st)))


# --- the report -----------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}" if seconds >= 0.1 else f"{seconds * 1000:,.1f}"


def timing_rows(cases: list[Case]) -> list[str]:
    rows = []
    for c in cases:
        rest = c.rest
        rows.append(
            f"| {c.name} | {ms(c.cold)} | {ms(statistics.median(rest))} | {ms(min(rest))} | {ms(max(rest))} | "
            f"{' / '.join(ms(s) for s in c.seconds)} |"
        )
    return rows


def short_sql(sql: str, limit: int = 150) -> str:
    text = " ".join(sql.split())
    return (text if len(text) <= limit else text[: limit - 1] + "…").replace("|", "\\|")


def markdown(report: Report) -> str:
    args, load = report.args, report.load
    assert load is not None
    this, prev = report.periods["this"], report.periods["prev"]
    top = report.cases[0]
    lines = [
        "# Stats benchmark: PostgreSQL, 本月统计 over generated orders",
        "",
        f"`{report.command}`",
        "",
        f"{report.started:%Y-%m-%d %H:%M} UTC; Relay: {working_tree_label()}; machine: {os.cpu_count()} cores, "
        f"24 GB; Python {platform.python_version()}, asyncpg {asyncpg.__version__}, PostgreSQL {report.pg_version} "
        f"on loopback ({', '.join(f'{k}={v}' for k, v in report.settings.items())}); "
        f"database `{report.database}` ({'kept' if args.keep else 'dropped afterwards'}).",
        "",
        "## Data",
        "",
        f"- **N = {args.orders:,} orders** over {report.generation_window}, newest days about {1 + BUSIER:g}× as "
        f"busy as the oldest; 朗斯家居 → 6 regions → 120 stores (path `/1/<region>/<store>/`); one salesperson a "
        f"store, a top manager at the company, a store manager at {report.store_name} ({report.store_orders:,} "
        f"orders), an after-sales caller; {args.customers} customers. Seed {args.seed}.",
        "- Progression: measured 92 %, designed 93 %, confirmed 80 %, in stock 98 %, installed 98 % (each of "
        "those that reached the stage before), lognormal gaps with medians 40 h, 60 h, 72 h, 15 d, 4 d; then signed "
        "97 % (≈ 3 h) and visited 85 % (≈ 5 d, one reached call with scores, one in ten after an unanswered "
        "call). A stage that would fall after now is not reached yet (the order waits there); drop-outs before "
        "installing are cancelled (97 %) or left open. One OrderEvent per stage reached (`created`, `measured`, "
        "`designed`, `confirmed`, `in_stock`, `installed`; actor null, payload {}).",
        "- Layout: orders are written in creation order (ids follow `created_at`, as Relay assigns them), each "
        "row already in its final state, so one month's stage times sit in a narrow band of the table; a live "
        "table whose rows were updated at every stage is less tidy (each UPDATE writes a new row version "
        "wherever there is room), which matters to index scans (the what-if below), not to full scans. Events "
        "are written order by order.",
        "- Money: nine orders in ten priced at sale (1-3 lines of 8 series, 1-4 of each, list prices per series, "
        "a line 0-15 % off, two orders in five a little off the whole order), so orders not confirmed yet have "
        "a contract too; one in ten from before prices (a contract typed on confirming, no lines). Payments on "
        "confirmed orders: a deposit of 30-50 % on confirming (97 %), the rest some days after installing (90 %, "
        "else still owed), 3 % first recorded wrong and voided; payments younger than three days often still "
        "待确认.",
        f"- Rows: {', '.join(f'{t} {n:,} ({load.table_sizes[t]})' for t, n in load.rows.items())}.",
        f"- Migrations {report.migrate_seconds:.1f} s; org, staff, customers {report.org_seconds:.1f} s. "
        f"**Load {load.seconds:.0f} s** in batches of {args.batch:,} orders with asyncpg `copy_records_to_table` "
        f"(generating in Python/numpy {load.generate_seconds:.0f} s, COPY {load.copy_seconds:.0f} s, then "
        f"`VACUUM (ANALYZE)` {load.vacuum_seconds:.0f} s), "
        f"≈ {args.orders / max(load.seconds, 1e-9):,.0f} orders/s with their events.",
        "",
        "## Timings",
        "",
        f"`stats_for(viewer, period)` through Relay's runtime (`running_services(config, background=False)`, "
        f"tortoise over asyncpg), {args.runs} runs a case, one after another. *Cold* is the first call of the case "
        "(the first of all opens the pool's connection; PostgreSQL's buffers and the OS cache are warm from the "
        "load, nothing was restarted); median/min/max are over the other runs. 本月 = "
        f"{this.start:%Y-%m-%d} – {this.end - timedelta(days=1):%Y-%m-%d} local; previous month = "
        f'{prev.label} (`parse_period("{report.cases[2].period_text}")`). Load average before the timings '
        f"{' / '.join(f'{x:.2f}' for x in report.load_average)} (1/5/15 min; others share this machine).",
        "",
        "| case | cold ms | median ms | min ms | max ms | every run, ms |",
        "|---|---:|---:|---:|---:|---|",
        *timing_rows(report.cases),
        "",
        f"`cards.charts.stats_chart(stats)` for the top manager (6 region groups × 5 bars), once: "
        f"**{report.chart_ms:,.0f} ms**, PNG {report.chart_bytes:,} bytes, font "
        f"{report.chart_font} — the first chart of the process, so it "
        "includes matplotlib's first-use costs.",
        "",
    ]
    # The figures themselves.
    for case in report.cases[:2]:
        s = case.stats
        assert s is not None
        counts = " · ".join(f"{label} {s.total.counts.get(k, 0):,}" for k, _, label in STAGES)
        waiting = ", ".join(f"{st.label} {n:,}" for st, n in sorted(s.waiting.items(), key=lambda x: -x[1]))
        days = ", ".join(f"{k} {v}" for k, v in s.avg_days.items())
        lines += [
            f"- {case.name}: {counts}; waiting now: {waiting}; average days: {days}; scores {s.scores}.",
        ]
    lines += ["", "## Sanity check", "",
              "Each figure from `stats_for` against the generator's own tally (counted in numpy while generating, "
              "before anything reached the database) and an independent SQL query (`count(*) FILTER (WHERE "
              "<stamp> >= start AND <stamp> < end)` over `\"order\"`, `AND org_unit_id = <store>` for the store, "
              "regions by joining `org_unit`, `avg(EXTRACT(EPOCH …))` for the days).",
              "", "| case | figure | Relay | generator | SQL | match |", "|---|---|---|---|---|---|"]  # fmt: skip
    all_ok = True
    for name, checks in report.checks.items():
        for c in checks:
            all_ok &= c.ok
            lines.append(f"| {name} | {c.what} | {c.relay} | {c.expected} | {c.sql} | {'yes' if c.ok else '**NO**'} |")
    lines += ["", f"**All figures match: {'yes' if all_ok else 'NO'}.**", ""]

    # Where the time goes.
    lines += ["## Where the time goes", "",
              "One more run of each case with every statement Relay sent timed (wall time in this process, "
              "including asyncpg and tortoise's row handling); the previous month's cases send the same "
              "statements with other dates: "
              + "; ".join(f"{name} {sum(s.ms for s in sts):,.0f} ms in {len(sts)} statements"
                          for name, sts in list(report.statements.items())[2:]) + ".", ""]  # fmt: skip
    for name, statements in list(report.statements.items())[:2]:
        total = sum(s.ms for s in statements)
        lines += [f"**{name}**: {len(statements)} statements, {total:,.0f} ms in the database calls.", "",
                  "| # | ms | rows | statement |", "|---:|---:|---:|---|"]  # fmt: skip
        for i, st in enumerate(statements, start=1):
            lines.append(f"| {i} | {st.ms:,.1f} | {st.rows} | `{short_sql(st.sql)}` |")
        lines.append("")
    lines += ['Indexes on `"order"` after `relay.db.migrate`:', "", "```", *report.indexes, "```", ""]

    if report.plans:
        why = (f"the cases over {args.slow:g} s ({', '.join(report.slow_cases)})" if report.slow_cases else
               f"no case is over {args.slow:g} s, but the stage indexes are missing, so both managers' 本月"
               if report.missing_indexes else "asked for with --explain")  # fmt: skip
        lines += ["## Plans", "",
                  f"Explained because {why}: the slowest statement of each shape (the five stage counts are one "
                  f"shape), those of at least {EXPLAIN_MS:g} ms, re-run under `EXPLAIN (ANALYZE, BUFFERS)` with "
                  "the same parameters on a separate connection.", ""]  # fmt: skip
        for p in report.plans:
            lines += [f"{p.case}, {p.ms:,.0f} ms: `{short_sql(p.sql, 400)}` with "
                      f"{', '.join(show_value(v) for v in p.values) or 'no parameters'}", "", "```", p.text, "```",
                      ""]  # fmt: skip
    if report.alternatives:
        lines += ["## Query changes, measured on the migrated schema", "",
                  "Equivalent SQL run directly (best of three `EXPLAIN (ANALYZE, BUFFERS)` execution times), "
                  "against what Relay's statements for the same figures took in the recorded run above "
                  "(that includes the round trips).", "",
                  "| change | Relay now, ms | changed SQL, ms |", "|---|---:|---:|"]  # fmt: skip
        for alt in report.alternatives:
            lines.append(f"| {alt.what} | {alt.relay_ms:,.0f} ({alt.relay_what}) | {alt.ms:,.1f} |")
        lines.append("")
        for alt in report.alternatives:
            lines += [f"{alt.what}: `{short_sql(alt.sql, 300)}`", "", "```", alt.plan, "```", ""]
    if report.whatif:
        lines += ["## What if the stage columns had their indexes", "",
                  "Created in the throwaway database only (Relay's code and migrations unchanged), "
                  f"{report.whatif_seconds:.0f} s including `ANALYZE \"order\"`:", "", "```sql", *report.whatif_sql,
                  "```", "", "| case | cold ms | median ms | min ms | max ms | every run, ms |",
                  "|---|---:|---:|---:|---:|---|", *timing_rows(report.whatif), ""]  # fmt: skip
        for p in report.whatif_plans:
            lines += [f"With the indexes, {p.case}: `{short_sql(p.sql, 400)}`", "", "```", p.text, "```",
                      ""]  # fmt: skip
    lines += ["## Aside: one order's timeline", "",
              f"`workflow.timeline.timeline(order)` for order {max(1, args.orders // 2)} "
              f"({' / '.join(f'{t:,.1f}' for t in report.timeline_ms)} ms), which reads `order_event` by "
              "`order_id`:", "", "```", report.timeline_plan, "```", ""]  # fmt: skip
    lines += ["## Notes", "", *report_notes(report, top), ""]
    return "\n".join(lines)


def report_notes(report: Report, top: Case) -> list[str]:
    """What the numbers say; written from the measurements, so a rerun stays honest."""
    notes = []
    missing = report.missing_indexes
    if missing:
        notes.append(
            f"- The stage columns {', '.join(f'`{m}`' for m in missing)} have **no index** in a database built by "
            "`relay.db.migrate` (the list above), although `models/orders.py` declares `db_index=True` on them "
            "and migration 0003 has `db_index=True` in its `AddField`s: tortoise-orm "
            f"{tortoise.__version__}'s schema editor (`BaseSchemaEditor.add_field`) emits only `ALTER TABLE … "
            "ADD COLUMN` and ignores `db_index` (a `CreateModel` does create them, which is why `created_at`, "
            "from 0001, has its index). `workflow/stats.py` counts on them (“keeps the top manager's query on "
            "the stage indexes”)."
        )
    slow = report.args.slow
    verdict = "over" if top.median > slow else "under"
    notes.append(
        f"- Top manager 本月: median {ms(top.median)} ms, {verdict} the {slow:g} s mark (cold {ms(top.cold)} ms)."
    )
    top_sts = report.statements.get(top.name, [])
    if missing and top_sts:
        on_missing = [st for st in top_sts if any(f"{m}" in st.sql.split("WHERE", 1)[-1] for m in missing)]
        waiting = [st for st in top_sts if '"state" IN' in st.sql]
        notes.append(
            f"- Of the top manager's {sum(st.ms for st in top_sts):,.0f} ms in {len(top_sts)} statements, "
            f"{sum(st.ms for st in on_missing):,.0f} ms are the {len(on_missing)} that filter on an unindexed "
            "stage column (4 of the 5 counts and all 5 average-days queries), each a scan of the whole table; "
            f"the waiting count (`state IN` the 8 open states) takes {sum(st.ms for st in waiting):,.0f} ms. "
            "The time grows with the table, not with the month: the previous month costs the same."
        )
    store_sts = report.statements.get(report.cases[1].name, [])
    if store_sts:
        worst = max(store_sts, key=lambda st: st.ms)
        notes.append(
            f"- The store manager stays fast because every query has `org_unit_id IN (store)` and the "
            f"`(org_unit_id, state)` index narrows it to the store's {report.store_orders:,} orders; its slowest "
            f"statement is `{short_sql(worst.sql, 90)}` ({worst.ms:,.0f} ms)."
        )
    if report.whatif:
        before, after = report.cases[0], report.whatif[0]
        notes.append(
            f"- With the five stage indexes the top manager's 本月 goes from {ms(before.median)} ms to "
            f"{ms(after.median)} ms (median). Suggestion for Relay: a migration that creates them, e.g. "
            + "; ".join(f'`CREATE INDEX … ON "order" ({m})`' for m in missing)
            + " (on a live PostgreSQL `CREATE INDEX CONCURRENTLY`, outside a transaction), and a test that "
            "reads `pg_indexes` after `migrate` so a future `AddField(db_index=True)` cannot silently lose its "
            "index again."
        )
    for alt in report.alternatives:
        if alt.what.startswith("the waiting count") and alt.ms < alt.relay_ms / 2:
            notes.append(
                f'- The waiting count needs no new index: `count(*)` instead of the `COUNT("id")` that tortoise '
                'emits for `Count("id")` lets PostgreSQL answer from the `state` index alone (an index-only '
                f"scan; it relies on the visibility map, which vacuum keeps): {alt.ms:,.1f} ms against "
                f"{alt.relay_ms:,.0f} ms. An index `(state) INCLUDE (id)` would do the same for the query as it is."
            )
        elif alt.what.startswith("the five counts"):
            notes.append(
                f"- Without new indexes, one pass with `count(*) FILTER (…)` / `sum(…) FILTER (…)` grouped by "
                f"unit gives all ten stage figures in {alt.ms:,.0f} ms against {alt.relay_ms:,.0f} ms for "
                "Relay's ten statements; it still reads the whole table, so it grows with it, where the indexes "
                "do not."
            )
    if "Seq Scan on order_event" in report.timeline_plan:
        notes.append(
            f"- Aside, not part of the stats: `order_event.order_id` has no index (PostgreSQL does not index a "
            f"foreign key by itself, and tortoise adds none), so every order timeline reads the whole "
            f"{report.load.rows['order_event'] if report.load else 0:,}-row `order_event` table "
            f"({' / '.join(f'{t:,.0f}' for t in report.timeline_ms)} ms above). Suggestion: an index on "
            '`order_event (order_id, id)`. Foreign keys to `"order"` without an index leading with them: '
            + (", ".join(f"`{c}`" for c in report.unindexed_fks) or "none")
            + "."
        )
    return notes


# --- main -----------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders to generate (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=5, help="stats_for calls per case (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (its URL is printed)")
    parser.add_argument("--batch", type=int, default=50_000, help="orders per COPY batch (default 50,000)")
    parser.add_argument("--customers", type=int, default=50, help="customers the orders belong to (default 50)")
    parser.add_argument("--store", type=int, default=0, help="index of the store manager's store, 0-119 (default 0)")
    parser.add_argument("--seed", type=int, default=20261125, help="random seed (default 20261125)")
    parser.add_argument(
        "--explain",
        action="store_true",
        help="explain both managers' 本月 statements even when nothing is slow or missing",
    )
    parser.add_argument(
        "--no-what-if", action="store_true", help="skip trying the missing stage indexes and the query changes"
    )
    parser.add_argument("--max-plans", type=int, default=4, help="most statements explained per slow case")
    parser.add_argument(
        "--slow",
        type=float,
        default=SLOW_SECONDS,
        help=f"a case slower than this is explained (s, default {SLOW_SECONDS:g})",
    )
    parser.add_argument(
        "--report", type=Path, default=RESULTS / "stats-postgres.md", help="where to write the Markdown report"
    )
    args = parser.parse_args(argv)
    if args.orders < 1 or args.runs < 1 or args.batch < 1 or not 0 <= args.store < 120 or args.customers < 1:
        parser.error("--orders, --runs, --batch, --customers must be positive; --store 0-119")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = asyncio.run(run(args))
    text = markdown(report)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(text, encoding="utf-8")
    print(f"wrote {args.report}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
