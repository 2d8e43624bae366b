"""The managers' dashboard: the same figures as the chat, over a chosen period and unit, with charts
drawn on the server and CSV / Excel export."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from urllib.parse import quote

import xlsxwriter
from aiohttp import web

from cards.charts import stats_chart
from cards.views import STAGES, Period, Stats
from infra.timeutil import local_today
from models import AuditAction, OrgUnit
from webviews.auth import api_staff, h5_page
from webviews.forms import to_date, to_int
from webviews.render import render
from workflow import audit
from workflow.errors import Invalid, NotAllowed, WorkflowError
from workflow.stats import DURATIONS, stats_for

routes = web.RouteTableDef()
MAX_DAYS = 366


def _period(request: web.Request) -> Period:
    today = local_today()
    start = to_date(request.query.get("from", ""), "from") or today.replace(day=1)
    end = to_date(request.query.get("to", ""), "to") or today
    if end < start:
        raise Invalid("结束日期不能早于开始日期", "to")
    if (end - start).days > MAX_DAYS:
        raise Invalid("一次最多查看一年", "from")
    return Period(start, end + timedelta(days=1), f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}")


async def _stats(request: web.Request) -> Stats:
    return await stats_for(api_staff(request), _period(request), unit_id=to_int(request.query.get("unit"), 0) or None)


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
    own = await OrgUnit.get(id=staff.org_unit_id)
    units = await OrgUnit.filter(path__startswith=own.path).order_by("path")
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
    )


@routes.get("/h5/dashboard/chart.png")
@h5_page
async def chart(request: web.Request) -> web.Response:
    try:
        stats = await _stats(request)
    except WorkflowError as exc:
        raise web.HTTPBadRequest(text=exc.message) from exc
    png = await asyncio.to_thread(stats_chart, stats)
    return web.Response(body=png, content_type="image/png", headers={"Cache-Control": "private, max-age=60"})


def rows(stats: Stats) -> list[list[object]]:
    """One table for both exports: a row per unit (and the total), a column per figure."""
    header: list[object] = ["组织", *[label for _, _, label in STAGES]]
    table: list[list[object]] = [header]
    for unit, figures in [*stats.by_unit, (stats.unit, stats.total)]:
        name = f"{unit.name}（合计）" if unit is stats.unit else unit.name
        table.append([name, *[figures.counts.get(key, 0) for key, _, _ in STAGES]])
    table.append([])
    table.append(["当前待办", *[f"{s.label} {n}" for s, n in stats.waiting.items()]])
    table.append(["平均用时（天）", *[f"{k} {v}" for k, v in stats.avg_days.items() if v is not None]])
    table.append(["客户评分", *[f"{k} {v}" for k, v in stats.scores.items() if v is not None]])
    return table


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
        for i, row in enumerate(rows(stats), start=2):
            sheet.write_row(i, 0, row, bold if i == 2 else None)
        sheet.set_column(0, 0, 22)
        sheet.set_column(1, 8, 14)
        book.close()
        return out.getvalue()

    return web.Response(
        body=await asyncio.to_thread(build),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_filename(stats, 'xlsx')}"},
    )
