"""Money in the managers' numbers: contract value, collected, outstanding and average discount of a scope,
by unit (grouped by the order's unit, rolled up by the caller like the counts) and by product series.

- contract value: orders confirmed in the period (not cancelled since), their contract amounts;
- collected: payments recorded in the period and not voided, on any order in scope (a cancelled order's
  money was received all the same); both the total and the part finance has confirmed (待确认 is the rest);
- outstanding: now, whatever the period: each order in scope the customer has confirmed (a price before
  that is an offer, not a debt), not cancelled, its contract less its standing payments (the total stored
  on the order, workflow.owed), where above zero;
- average discount: 1 - sum contract / sum list, over the priced orders (list amount above zero) confirmed
  in the period;
- by series: the priced lines of the orders confirmed in the period, by series: orders, quantity, amount
  (line amounts, before any discount off the whole order) and share of the amounts.

Amounts are summed exactly: PostgreSQL sums numeric; SQLite stores a decimal as text, so it sums cents as
integers (a float SUM could be a cent off).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from cards.views import ZERO, Money, Period, SeriesLine
from infra.db import db
from models import Order, OrderState
from workflow.owed import owing_sql

# Who may see money in the numbers (seed 001: finance data to finance). The numbers themselves are the
# managers' (workflow.stats.scope_unit); this keeps money away from anyone else who ever reads them.
CANCELLED = OrderState.CANCELLED.value
CENT = Decimal("0.01")


@dataclass
class _Query:
    """One statement's placeholders and unit filter, written for the database at hand."""

    postgres: bool = field(default_factory=lambda: db().capabilities.dialect == "postgres")
    args: list[object] = field(default_factory=list)

    def arg(self, value: object) -> str:
        if isinstance(value, datetime) and not self.postgres:
            # SQLite compares the stored text: convert exactly as tortoise does when it stores a datetime.
            value = Order._meta.fields_map["created_at"].to_db_value(value, Order)
        self.args.append(value)
        return f"${len(self.args)}" if self.postgres else "?"

    def units(self, column: str, unit_ids: list[int] | None) -> str:
        if unit_ids is None:
            return ""
        if not self.postgres:
            return f" AND {column} IN ({','.join(str(int(i)) for i in unit_ids)})"
        # One unit (a store) as `= $n`, which its (org_unit_id, ...) indexes answer under any plan (see
        # workflow.stats._unit_filter).
        if len(unit_ids) == 1:
            return f" AND {column} = {self.arg(unit_ids[0])}"
        return f" AND {column} = ANY({self.arg(unit_ids)})"

    def num(self, column: str) -> str:
        # A text column compared with a number on SQLite compares as text ('0.00' > '0'): make it a number.
        return column if self.postgres else f"({column} + 0)"

    def total(self, expr: str) -> str:
        """An exact sum of a money column (in cents on SQLite, see the module's note)."""
        return f"SUM({expr})" if self.postgres else f"SUM(CAST(ROUND(({expr}) * 100) AS INTEGER))"

    def period(self, column: str, period: Period) -> str:
        return f"{column} >= {self.arg(period.start_at)} AND {column} < {self.arg(period.end_at)}"

    async def rows(self, sql: str) -> list[dict[str, object]]:
        _, rows = await db().execute_query(sql, self.args)
        return [dict(r) for r in rows]

    def money(self, value: object) -> Decimal:
        if value is None:
            return ZERO
        if self.postgres:
            return Decimal(str(value)).quantize(CENT)
        return (Decimal(int(value)) / 100).quantize(CENT)  # type: ignore[call-overload]


async def money_by_unit(unit_ids: list[int] | None, period: Period) -> dict[int, Money]:
    """The money of each unit that has any, by the orders' own unit (the caller rolls units up)."""
    found: dict[int, dict[str, object]] = {}

    def put(unit: object, **values: object) -> None:
        found.setdefault(int(unit), {}).update(values)  # type: ignore[call-overload]

    q = _Query()
    priced = f"{q.num('list_amount')} > 0"
    for r in await q.rows(
        f"SELECT org_unit_id AS u, COUNT(*) AS n, {q.total('contract_amount')} AS contract, "
        f"{q.total(f'CASE WHEN {priced} THEN list_amount END')} AS list, "
        f"{q.total(f'CASE WHEN {priced} THEN contract_amount END')} AS priced "
        f'FROM "order" WHERE {q.period("confirmed_at", period)} AND contract_amount IS NOT NULL '
        f"AND state <> '{CANCELLED}'{q.units('org_unit_id', unit_ids)} GROUP BY org_unit_id"
    ):
        put(r["u"], contract=q.money(r["contract"]), contract_orders=int(r["n"]),  # type: ignore[call-overload]
            list_amount=q.money(r["list"]), priced_contract=q.money(r["priced"]))  # fmt: skip

    q = _Query()
    recorded = q.period("p.created_at", period)
    # PostgreSQL: the period's payments reach their orders by primary key. Joined plainly, it guesses the
    # join too big for that and reads the whole order table (about 0.5 s on a million orders); `= ANY` of
    # the period's order ids, which it cannot count in advance, keeps it on the index.
    by_key = f" AND o.id = ANY(ARRAY(SELECT p.order_id FROM payment p WHERE {recorded}))" if q.postgres else ""
    for r in await q.rows(
        f"SELECT o.org_unit_id AS u, {q.total('p.amount')} AS total, "
        f"{q.total('CASE WHEN p.confirmed_at IS NOT NULL THEN p.amount END')} AS confirmed "
        f'FROM payment p JOIN "order" o ON o.id = p.order_id '
        f"WHERE {recorded} AND p.voided_at IS NULL{by_key}{q.units('o.org_unit_id', unit_ids)} "
        "GROUP BY o.org_unit_id"
    ):
        put(r["u"], collected=q.money(r["total"]), collected_confirmed=q.money(r["confirmed"]))

    # What each order owes from its stored paid total (workflow.owed), over the orders still owing: the
    # partial index idx_order_owing (migration 0017) holds just those, so neither the company's payments
    # nor its paid-up orders are read. Its condition is repeated as written (owing_sql) for SQLite to use it.
    q = _Query()
    owes = f"{q.total('o.contract_amount')} - {q.total('o.paid_amount')}"
    for r in await q.rows(
        f"SELECT o.org_unit_id AS u, COUNT(*) AS n, {owes} AS owed "
        f'FROM "order" o WHERE {owing_sql("o")} AND o.confirmed_at IS NOT NULL'
        f"{q.units('o.org_unit_id', unit_ids)} GROUP BY o.org_unit_id"
    ):
        put(r["u"], outstanding=q.money(r["owed"]), outstanding_orders=int(r["n"]))  # type: ignore[call-overload]

    return {unit: Money(**values) for unit, values in found.items()}  # type: ignore[arg-type]


async def money_by_series(unit_ids: list[int] | None, period: Period) -> list[SeriesLine]:
    q = _Query()
    orders = (
        f"SELECT o.id FROM \"order\" o WHERE {q.period('o.confirmed_at', period)} AND o.state <> '{CANCELLED}'"
        f"{q.units('o.org_unit_id', unit_ids)}"
    )
    # The period's orders' lines by the order_item index; on PostgreSQL as `= ANY` of their ids, as above (a
    # join read all the lines of every order: 0.8 s on a million orders).
    among = f"= ANY(ARRAY({orders}))" if q.postgres else f"IN ({orders})"
    rows = await q.rows(
        f"SELECT i.series AS series, COUNT(DISTINCT i.order_id) AS orders, SUM(i.quantity) AS quantity, "
        f"{q.total('i.amount')} AS amount FROM order_item i WHERE i.order_id {among} AND i.amount IS NOT NULL "
        "GROUP BY i.series"
    )
    lines = [(str(r["series"]), int(r["orders"]), int(r["quantity"]), q.money(r["amount"])) for r in rows]  # type: ignore[call-overload]
    whole = sum((amount for *_, amount in lines), ZERO)
    return sorted(
        (
            SeriesLine(
                series, orders, quantity, amount, (amount / whole).quantize(Decimal("0.0001")) if whole else ZERO
            )
            for series, orders, quantity, amount in lines
        ),
        key=lambda s: (-s.amount, s.series),
    )
