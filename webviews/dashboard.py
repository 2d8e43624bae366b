"""The managers' dashboard: the same figures as the chat, over a chosen period and unit, with charts
drawn on the server and CSV / Excel export."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from decimal import Decimal
from urllib.parse import quote

import xlsxwriter
from aiohttp import web

from cards.charts import ChartData, chart_data
from cards.views import STAGES, Period, Stats
from infra.runtime import runtime
from infra.timeutil import local_today
from models import AuditAction, OrgUnit, Role
from webviews.auth import api_staff, h5_page
from webviews.forms import to_date, to_int
from webviews.render import render
from workflow import audit
from workflow.aftersales import SCORED_LABELS
from workflow.charts import chart_file, chart_key, warm_chart
from workflow.dealers import dealer_kpis
from workflow.errors import Invalid, NotAllowed, WorkflowError
from workflow.receivables import ReceivableFilter, receivables, total_outstanding
from workflow.stats import DURATIONS, scope_unit, stats_for

routes = web.RouteTableDef()
MAX_DAYS = 366
OWED_SHOWN = 10  # the oldest balances on the dashboard; 未收清 has them all


def _period(request: web.Request) -> Period:
    today = local_today()
    start = to_date(request.query.get("from", ""), "from") or today.replace(day=1)
    end = to_date(request.query.get("to", ""), "to") or today
    if end < start:
        raise Invalid("结束日期不能早于开始日期", "to")
    if (end - start).days > MAX_DAYS:
        raise Invalid("一次最多查看一年", "from")
    return Period(start, end + timedelta(days=1), f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}")


def _unit_id(request: web.Request) -> int | None:
    return to_int(request.query.get("unit"), 0) or None


async def _stats(request: web.Request) -> Stats:
    return await stats_for(api_staff(request), _period(request), unit_id=_unit_id(request))


@routes.get("/h5/dashboard")
@h5_page
async def dashboard(request: web.Request) -> web.Response:
    staff = api_staff(request)
    try:
        stats = await _stats(request)
        error = None
    except NotAllowed as exc:
        return render(request, "message.html", title="无法查看", message=exc.message, status=403)
    except WorkflowError as exc:
        error = exc.message
        stats = await stats_for(staff, Period(local_today().replace(day=1), local_today() + timedelta(days=1), "本月"))
    if error is None:
        warm_chart(chart_key(stats.unit.id, stats.period), chart_data(stats))  # the <img> below asks for it next
    own = await OrgUnit.get(id=staff.org_unit_id)
    units = await OrgUnit.filter(path__startswith=own.path).order_by("path")
    owed = await receivables(staff, ReceivableFilter(unit_id=stats.unit.id)) if staff.has_role(Role.MANAGER) else []
    return render(
        request,
        "dashboard.html",
        stats=stats,
        stages=STAGES,
        durations=DURATIONS,
        units=units,
        error=error,
        start=stats.period.start.isoformat(),
        end=(stats.period.end - timedelta(days=1)).isoformat(),
        query=request.query_string,
        owed=owed[:OWED_SHOWN],
        owed_count=len(owed),
        owed_total=total_outstanding(owed),
        owed_unit=stats.unit.id,
        yuan=full_yuan,
        pct=percent,
        dealers=await dealer_kpis(stats.unit, stats.period.start_at, stats.period.end_at),
    )


def full_yuan(amount: Decimal) -> str:
    """The dashboard's money: every yuan, thousands separated (the chat card rounds to 万元)."""
    return f"{amount:,.2f} 元"


def percent(share: Decimal) -> str:
    return f"{share * 100:.1f}%"


@routes.get("/h5/dashboard/chart.png")
@h5_page
async def chart(request: web.Request) -> web.Response:
    """The chart the page just started drawing, or one drawn lately for this scope and period; the numbers
    are read again only when neither is there."""
    try:
        period = _period(request)
        unit = await scope_unit(api_staff(request), _unit_id(request))
    except WorkflowError as exc:
        raise web.HTTPBadRequest(text=exc.message) from exc

    async def data() -> ChartData:
        return chart_data(await stats_for(api_staff(request), period, unit_id=unit.id))

    sha256 = await chart_file(chart_key(unit.id, period), data)
    png = await runtime().files.read(sha256)
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "private, max-age=60"})


def rows(stats: Stats) -> list[list[object]]:
    """One table for both exports, labelled in Chinese: a row per unit (and the total), a column per stage;
    then a label and its figure per row. Figures stay numbers (Excel sums them); none is an empty cell."""
    table: list[list[object]] = [["组织", *[label for _, _, label in STAGES]]]
    for unit, figures in [*stats.by_unit, (stats.unit, stats.total)]:
        name = f"{unit.name}（合计）" if unit is stats.unit else unit.name
        table.append([_text(name), *[figures.counts.get(key, 0) for key, _, _ in STAGES]])
    sections: list[tuple[list[object], list[list[object]]]] = [
        (["当前各环节待办", "订单数"], [[state.label, n] for state, n in stats.waiting.items()]),
        (["平均用时", "天"], [[label, days] for label, days in stats.avg_days.items()]),
        (["客户评分", "平均分"], [[SCORED_LABELS[role], v] for role, v in stats.scores.items()]),
    ]
    if stats.lowest:
        sections.append((["低于本期平均", "平均分", "评分次数"], [[_text(n), s, k] for n, s, k in stats.lowest]))
    if stats.total.money is not None:
        sections += _money_sections(stats)
    if stats.lead_stores or stats.lead_people:
        sections.append(
            (
                ["预约转化", "预约", "成交", "有结果", "成单率"],
                [
                    [_text(c.name), c.received, c.won, c.decided, c.rate]
                    for c in [*stats.lead_stores, *stats.lead_people]
                ],
            )
        )
    for heading, lines in sections:
        table += [[], heading, *lines]
    return table


def _money_sections(stats: Stats) -> list[tuple[list[object], list[list[object]]]]:
    """Amounts in yuan and discount and share as fractions, all numbers (a spreadsheet sums them); no
    discount (no priced order) is an empty cell."""
    units = [(u.name, f.money) for u, f in stats.by_unit] + [(f"{stats.unit.name}（合计）", stats.total.money)]
    money: list[list[object]] = [
        [_text(name), _number(m.contract), m.contract_orders, _number(m.collected), _number(m.collected_confirmed),
         _number(m.collected_pending), _number(m.outstanding), m.outstanding_orders,
         _number(m.avg_discount) if m.avg_discount is not None else ""]
        for name, m in units
        if m is not None
    ]  # fmt: skip
    return [
        (
            [
                "金额（元）",
                "签约金额",
                "签约单数",
                "回款合计",
                "回款已确认",
                "回款待确认",
                "未收清",
                "未收清单数",
                "平均优惠",
            ],
            money,
        ),  # fmt: skip
        (
            ["产品系列", "订单数", "数量", "金额（元）", "占比"],
            [[_text(s.series), s.orders, s.quantity, _number(s.amount), _number(s.share)] for s in stats.series],
        ),
    ]


def _number(value: Decimal) -> float:
    # xlsxwriter and csv write a float as a number; every amount here has at most two decimals (a share
    # four), which a float carries exactly enough to print back the same.
    return float(value)


def _text(value: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet: a name typed by staff must never run as one.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _filename(stats: Stats, ext: str) -> str:
    return quote(
        f"数据统计-{stats.unit.name}-{stats.period.start:%Y%m%d}-{stats.period.end - timedelta(days=1):%Y%m%d}.{ext}"
    )


async def _audited(request: web.Request, stats: Stats, fmt: str) -> None:
    filter = {"from": stats.period.start.isoformat(), "to": (stats.period.end - timedelta(days=1)).isoformat()}
    filter["unit"] = str(stats.unit.id)
    await audit.record(
        AuditAction.STATS_EXPORT,
        actor=api_staff(request),
        ip=request.remote or "",
        format=fmt,
        rows=len(stats.by_unit) + 1,
        filter=filter,
    )


@routes.get("/h5/dashboard/export.csv")
@h5_page
async def export_csv(request: web.Request) -> web.Response:
    stats = await _stats(request)
    await _audited(request, stats, "csv")

    def build() -> str:
        out = io.StringIO()
        out.write("\ufeff")  # Excel reads the Chinese as UTF-8 only with the BOM
        csv.writer(out).writerows(rows(stats))
        return out.getvalue()

    return web.Response(
        text=await asyncio.to_thread(build),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_filename(stats, 'csv')}"},
    )


@routes.get("/h5/dashboard/export.xlsx")
@h5_page
async def export_xlsx(request: web.Request) -> web.Response:
    stats = await _stats(request)
    await _audited(request, stats, "xlsx")

    def build() -> bytes:
        out = io.BytesIO()
        book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
        sheet = book.add_worksheet("数据统计")
        bold = book.add_format({"bold": True})
        sheet.write_row(0, 0, [f"{stats.unit.name} · {stats.period.label}"], bold)
        heading = True  # the first row, and the first after each blank one, name the columns below
        for i, row in enumerate(rows(stats), start=2):
            sheet.write_row(i, 0, row, bold if heading else None)
            heading = not row
        sheet.set_column(0, 0, 22)
        sheet.set_column(1, 8, 14)
        book.close()
        return out.getvalue()

    return web.Response(
        body=await asyncio.to_thread(build),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_filename(stats, 'xlsx')}"},
    )
