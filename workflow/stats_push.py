"""Sending the numbers: on request in chat and as the daily push, one job per manager.

Reading the numbers, drawing the chart and storing it run before any transaction opens (`prepare_stats`);
the transaction that marks the request or the job done only queues the two messages (`queue_stats`). A
crash in between draws the chart again on the retry, and the PNG is stored under its content hash, so
nothing is doubled and nothing is lost.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cards.charts import stats_chart
from cards.manager import image_message, stats_message
from cards.views import Period, Stats
from infra.runtime import runtime
from infra.timeutil import local_today, utcnow
from models import Role, Staff
from workflow import notify
from workflow.jobs import Staged, schedule
from workflow.stats import stats_for

DAILY_PUSH = "daily_stats"
MANAGER_PUSH = "daily_stats_manager"


@dataclass(frozen=True)
class StatsReport:
    """The numbers for one manager and their chart, stored."""

    stats: Stats
    chart_sha256: str


async def prepare_stats(manager: Staff, period: Period) -> StatsReport:
    """Outside any transaction: the numbers, and the chart drawn off the event loop and stored."""
    stats = await stats_for(manager, period)
    png = await asyncio.to_thread(runtime().draw_chart or stats_chart, stats)
    stored = await runtime().files.put_image(png)
    return StatsReport(stats, stored.sha256)


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
