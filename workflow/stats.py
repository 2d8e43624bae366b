"""The managers' numbers (数据统计), for the part of the company a manager covers.

Counts of orders created, measured, designed, goods-in and installed in a period (the five counts of
seed 000), split by the units below; orders waiting at each stage now; average days per stage; and the
after-sales scores. Every figure is an indexed query on the order's stage times.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, timedelta
from typing import cast

from tortoise.functions import Count
from tortoise.queryset import QuerySet

from cards.views import STAGES, Figures, Money, Period, Stats
from infra.db import db
from infra.timeutil import local_today
from models import Order, OrderState, OrgUnit, Role, Staff, Task, TaskKind, TaskState, UnitKind
from models.enums import OPEN_ORDER_STATES
from workflow.errors import Invalid, NotAllowed
from workflow.leads import conversion
from workflow.privacy import sees_company_money
from workflow.scope import require_role
from workflow.stats_money import money_by_series, money_by_unit

# (label, from stamp, to stamp): how long orders spent getting from one stage to the next.
DURATIONS = (
    ("新建→测量", "created_at", "measured_at"),
    ("测量→设计", "measured_at", "designed_at"),
    ("设计→确认", "designed_at", "confirmed_at"),
    ("确认→到货", "confirmed_at", "in_stock_at"),
    ("到货→安装", "in_stock_at", "installed_at"),
)
MONTH_RE = re.compile(r"^(\d{4})[-/年.](\d{1,2})月?$")


def parse_period(text: str, *, today: date | None = None) -> Period:
    """今日 / 本周 / 本月 / 2026-11 (also 2026年11月)."""
    today = today or local_today()
    text = text.strip().replace("统计", "").strip()
    if text in ("今日", "今天", ""):
        return Period(today, today + timedelta(days=1), f"{today:%Y-%m-%d}")
    if text in ("本周", "这周"):
        monday = today - timedelta(days=today.weekday())
        return Period(monday, today + timedelta(days=1), f"本周（{monday:%m-%d} 起）")
    if text in ("本月", "这个月"):
        first = today.replace(day=1)
        return Period(first, today + timedelta(days=1), f"{today:%Y年%m月}")
    match = MONTH_RE.match(text)
    if match:
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12 and 2000 <= year <= 2100:
            first = date(year, month, 1)
            nxt = date(year + (month == 12), month % 12 + 1, 1)
            return Period(first, nxt, f"{year}年{month:02d}月")
    raise Invalid("时间写法：今日统计、本周统计、本月统计，或“统计 2026-11”")


async def scope_unit(viewer: Staff, unit_id: int | None = None) -> OrgUnit:
    require_role(viewer, Role.MANAGER)
    own = await OrgUnit.get(id=viewer.org_unit_id)
    if unit_id is None or unit_id == own.id:
        return own
    unit = await OrgUnit.get_or_none(id=unit_id)
    if unit is None or not unit.path.startswith(own.path):
        raise NotAllowed("只能查看你负责范围内的组织")
    return unit


async def _unit_ids(unit: OrgUnit) -> list[int]:
    return [cast(int, i) for i in await OrgUnit.filter(path__startswith=unit.path).values_list("id", flat=True)]


def _scoped(unit_ids: list[int] | None) -> QuerySet[Order]:
    return Order.all() if unit_ids is None else Order.filter(org_unit_id__in=unit_ids)


async def _counts_by_unit(unit_ids: list[int] | None, period: Period) -> dict[str, dict[int, int]]:
    result: dict[str, dict[int, int]] = {}
    for key, stamp, _ in STAGES:
        rows = (
            await _scoped(unit_ids)
            .filter(**{f"{stamp}__gte": period.start_at, f"{stamp}__lt": period.end_at})
            .annotate(n=Count("id"))
            .group_by("org_unit_id")
            .values_list("org_unit_id", "n")
        )
        result[key] = {int(u): int(n) for u, n in rows}
    return result


async def _avg_days(unit_ids: list[int] | None, period: Period) -> dict[str, float | None]:
    conn = db()
    postgres = conn.capabilities.dialect == "postgres"
    out: dict[str, float | None] = {}
    for label, start, end in DURATIONS:
        if postgres:
            span = f"EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0"
            args: list[object] = [period.start_at, period.end_at]
            where = f"{end} >= $1 AND {end} < $2 AND {start} IS NOT NULL"
            if unit_ids is not None:
                where += _unit_filter("org_unit_id", unit_ids, args)
        else:
            span = f"julianday({end}) - julianday({start})"
            args = [_sqlite(period.start_at), _sqlite(period.end_at)]
            where = f"{end} >= ? AND {end} < ? AND {start} IS NOT NULL"
            if unit_ids is not None:
                where += f" AND org_unit_id IN ({','.join(str(int(i)) for i in unit_ids)})"
        _, rows = await conn.execute_query(f'SELECT AVG({span}) AS days FROM "order" WHERE {where}', args)
        value = rows[0]["days"] if rows else None
        out[label] = None if value is None else round(float(value), 1)
    return out


def _unit_filter(column: str, unit_ids: list[int], args: list[object]) -> str:
    """PostgreSQL: one unit (a store) as `= $n`, which its (org_unit_id, stage time) index answers under any
    plan. With `= ANY($n)`, the generic plan PostgreSQL switches to after a statement's fifth run guesses an
    array of several units and scans the whole company's period instead: the store manager's slowdown."""
    args.append(unit_ids[0] if len(unit_ids) == 1 else unit_ids)
    return f" AND {column} = ${len(args)}" if len(unit_ids) == 1 else f" AND {column} = ANY(${len(args)})"


def _sqlite(moment: datetime) -> object:
    # SQLite compares the stored text: convert exactly as tortoise does when it stores a datetime.
    return Order._meta.fields_map["created_at"].to_db_value(moment, Order)


async def _scores(
    unit_ids: list[int] | None, period: Period
) -> tuple[dict[str, float | None], list[tuple[str, float, int]]]:
    """The period's reached visits in scope: the average per role, and the people whose average over the
    period is below the period's average (lowest first, three at most; never a 5.0, which nobody is below).
    Each visit scores the order's salesperson, its last measurer and its last installer (as aftersales does)."""
    rows = await _visits(unit_ids, period)
    people = await _scored_people(sorted({int(r[0]) for r in rows}))
    by_role: dict[str, list[int]] = {"sales": [], "measurer": [], "installer": []}
    by_person: dict[int, list[int]] = {}
    for order_id, *scores in rows:
        for role, value in zip(by_role, scores, strict=True):
            if value is None:
                continue
            by_role[role].append(int(value))
            person = people.get((int(order_id), role))
            if person is not None:
                by_person.setdefault(person, []).append(int(value))
    averages = {role: (round(sum(v) / len(v), 2) if v else None) for role, v in by_role.items()}
    every = [v for values in by_role.values() for v in values]
    if not every:
        return averages, []
    mean = sum(every) / len(every)
    below = sorted((sum(v) / len(v), person, len(v)) for person, v in by_person.items() if sum(v) / len(v) < mean)[:3]
    names = dict(await Staff.filter(id__in=[p for _, p, _ in below]).values_list("id", "name"))
    return averages, [(str(names.get(p, "—")), round(avg, 2), n) for avg, p, n in below]


async def _visits(unit_ids: list[int] | None, period: Period) -> list[tuple[int, int | None, int | None, int | None]]:
    """(order, sales, measurer, installer scores) of the period's reached visits in scope."""
    conn = db()
    if conn.capabilities.dialect == "postgres":
        args: list[object] = [period.start_at, period.end_at]
        where = "v.reached AND v.created_at >= $1 AND v.created_at < $2"
        if unit_ids is not None:
            where += _unit_filter("o.org_unit_id", unit_ids, args)
    else:
        args = [_sqlite(period.start_at), _sqlite(period.end_at)]
        where = "v.reached AND v.created_at >= ? AND v.created_at < ?"
        if unit_ids is not None:
            where += f" AND o.org_unit_id IN ({','.join(str(int(i)) for i in unit_ids)})"
    join = ' JOIN "order" o ON o.id = v.order_id' if unit_ids is not None else ""
    _, rows = await conn.execute_query(
        f"SELECT v.order_id, v.score_sales, v.score_measurer, v.score_installer FROM visit v{join} WHERE {where}", args
    )
    return [(r["order_id"], r["score_sales"], r["score_measurer"], r["score_installer"]) for r in rows]


SCORED_BY_KIND = {TaskKind.MEASURE: "measurer", TaskKind.INSTALL: "installer"}


async def _scored_people(order_ids: list[int]) -> dict[tuple[int, str], int]:
    """(order, role) -> whom a visit's score for that role is for: the salesperson, the last measurer (not
    superseded) and the last installer. By primary key, a few thousand orders a statement: joining a month's
    visits to the order table instead made PostgreSQL scan the whole table for the top manager."""
    people: dict[tuple[int, str], int] = {}
    for i in range(0, len(order_ids), 2000):
        chunk = order_ids[i : i + 2000]
        for order_id, sales_id in await Order.filter(id__in=chunk).values_list("id", "sales_id"):
            people[(int(order_id), "sales")] = int(sales_id)
        tasks = (
            await Task.filter(order_id__in=chunk, state=TaskState.DONE, kind__in=list(SCORED_BY_KIND))
            .order_by("id")
            .values_list("order_id", "kind", "assignee_id", "superseded")
        )
        for order_id, kind, assignee_id, superseded in tasks:
            if assignee_id is not None and not (kind == TaskKind.MEASURE and superseded):
                people[(int(order_id), SCORED_BY_KIND[TaskKind(kind)])] = int(assignee_id)  # the last one wins
    return people


async def stats_for(viewer: Staff, period: Period, *, unit_id: int | None = None) -> Stats:
    unit = await scope_unit(viewer, unit_id)
    all_ids = await _unit_ids(unit)
    # The whole company needs no unit filter, which keeps the top manager's query on the stage indexes.
    unit_ids = None if unit.parent_id is None else all_ids  # type: ignore[attr-defined]
    money_seen = sees_company_money(viewer)
    # The figures are independent reads: on PostgreSQL they run side by side on the pool's connections, so
    # the answer waits for the slowest (what is owed, over the whole company), not for their sum. SQLite
    # has one connection and runs them in turn.
    counts, money, waiting, (averages, lowest), days, series = await asyncio.gather(
        _counts_by_unit(unit_ids, period),
        money_by_unit(unit_ids, period) if money_seen else _nothing(),
        _waiting(unit_ids),
        _scores(unit_ids, period),
        _avg_days(unit_ids, period),
        money_by_series(unit_ids, period) if money_seen else _nothing(),
    )
    total = Figures({key: sum(counts[key].values()) for key, _, _ in STAGES}, _money(money, None))
    # Dealers are units of their own (经销商): their orders are dealer orders, shown in the dealers' figures.
    children = await OrgUnit.filter(parent_id=unit.id).exclude(kind=UnitKind.DEALER).order_by("name")
    by_unit = []
    for child in children:
        ids = set(await _unit_ids(child))
        by_unit.append(
            (
                child,
                Figures(
                    {key: sum(n for u, n in counts[key].items() if u in ids) for key, _, _ in STAGES},
                    _money(money, ids),
                ),
            )
        )
    lead_stores, lead_people = await conversion(unit, period.start, period.end)
    return Stats(unit, period, total, by_unit, waiting, days, averages, lowest, series or [], lead_stores, lead_people)


async def _nothing() -> None:
    return None


async def _waiting(unit_ids: list[int] | None) -> dict[OrderState, int]:
    rows = (
        await _scoped(unit_ids)
        .filter(state__in=list(OPEN_ORDER_STATES))
        .annotate(n=Count("id"))
        .group_by("state")
        .values_list("state", "n")
    )
    found = {OrderState(s): int(n) for s, n in rows}
    return {state: found[state] for state in OPEN_ORDER_STATES if found.get(state)}  # in lifecycle order


def _money(by_unit: dict[int, Money] | None, ids: set[int] | None) -> Money | None:
    """The money of the units in ids (all found when None), or None for a viewer who may not see it."""
    if by_unit is None:
        return None
    return sum((m for u, m in by_unit.items() if ids is None or u in ids), Money())
