"""Sending the numbers: on request in chat and as the daily push, one job per manager.

Asked in chat, the numbers go out first: the handler reads them before its transaction opens, and the
transaction queues the markdown card and a `stats_chart` job carrying what the chart shows; the job draws
the chart (or finds it drawn lately for the same scope and period) and queues the image. A crash in
between leaves the job to run again, and the PNG is stored under its content hash, so nothing is doubled
and nothing is lost. The daily push draws its chart before its own transaction (`prepare_stats`) and
queues both messages in it (`queue_stats`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cards.charts import ChartData, chart_data
from cards.manager import image_message, stats_message
from cards.views import Period, Stats
from infra.timeutil import local_today, utcnow
from models import Role, Staff
from workflow import notify
from workflow.charts import chart_file, chart_key
from workflow.jobs import Staged, schedule
from workflow.stats import stats_for

DAILY_PUSH = "daily_stats"
MANAGER_PUSH = "daily_stats_manager"
STATS_CHART = "stats_chart"


@dataclass(frozen=True)
class StatsReport:
    """The numbers for one manager and their chart, stored."""

    stats: Stats
    chart_sha256: str


async def queue_numbers(manager: Staff, stats: Stats) -> None:
    """In the handler's transaction: the numbers now, and a job that draws the chart and sends it after."""
    await notify.send(stats_message(manager.userid, stats))
    await schedule(
        STATS_CHART,
        f"{STATS_CHART}:{manager.userid}:{uuid.uuid4().hex}",
        utcnow(),
        {
            "manager": manager.userid,
            "key": chart_key(stats.unit.id, stats.period),
            "chart": chart_data(stats).to_json(),
        },
    )


async def _draw_chart(payload: dict[str, Any]) -> str:
    return await chart_file(payload["key"], ChartData.from_json(payload["chart"]))


async def _queue_chart(payload: dict[str, Any], sha256: str) -> None:
    await notify.send(image_message(payload["manager"], sha256))


stats_chart_job = Staged(prepare=_draw_chart, apply=_queue_chart)


async def prepare_stats(manager: Staff, period: Period) -> StatsReport:
    """Outside any transaction: the numbers, and their chart (drawn off the event loop, or drawn lately)."""
    stats = await stats_for(manager, period)
    sha256 = await chart_file(chart_key(stats.unit.id, period), chart_data(stats))
    return StatsReport(stats, sha256)


async def queue_stats(manager: Staff, report: StatsReport) -> None:
    """The markdown card, then the chart image (the outbox uploads it when it sends)."""
    await notify.send(stats_message(manager.userid, report.stats))
    await notify.send(image_message(manager.userid, report.chart_sha256))


async def daily_push(payload: dict[str, Any]) -> None:
    """One job per manager (keyed by day and manager, so running this again adds none): a chart that fails
    is retried alone, and each job draws its chart outside its transaction."""
    day = payload.get("date") or local_today().isoformat()
    for manager in await Staff.filter(active=True).order_by("id"):
        if manager.has_role(Role.MANAGER):
            await schedule(
                MANAGER_PUSH,
                f"{MANAGER_PUSH}:{day}:{manager.userid}",
                utcnow(),
                {"date": day, "manager": manager.userid},
            )


async def _prepare_manager_push(payload: dict[str, Any]) -> tuple[Staff, StatsReport] | None:
    manager = await Staff.get_or_none(userid=payload["manager"], active=True)
    if manager is None or not manager.has_role(Role.MANAGER):
        return None  # no longer a manager since the push was planned
    return manager, await prepare_stats(manager, _day(payload["date"]))


async def _queue_manager_push(payload: dict[str, Any], prepared: tuple[Staff, StatsReport] | None) -> None:
    if prepared is not None:
        await queue_stats(*prepared)


manager_push = Staged(prepare=_prepare_manager_push, apply=_queue_manager_push)


def _day(iso: str) -> Period:
    day = date.fromisoformat(iso)
    return Period(day, day + timedelta(days=1), f"{day:%Y-%m-%d}")
