"""Sending the numbers: on request in chat and as the daily push to every manager.

Reading the numbers, drawing the chart and storing it run before any transaction opens (`prepare_stats`);
the transaction that marks the request done only queues the two messages (`queue_stats`). A crash in
between draws the chart again on the retry, and the PNG is stored under its content hash, so nothing is
doubled and nothing is lost.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from bot.outbox import enqueue_message
from cards.charts import stats_chart
from cards.manager import image_message, stats_message
from models import Role, Staff
from relay.runtime import runtime
from workflow.stats import Period, Stats, parse_period, stats_for

DAILY_PUSH = "daily_stats"


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
    await enqueue_message(stats_message(manager.userid, report.stats))
    await enqueue_message(image_message(manager.userid, report.chart_sha256))


async def daily_push(payload: dict[str, Any]) -> None:
    period = parse_period("今日") if "date" not in payload else _day(payload["date"])
    for manager in await Staff.filter(active=True).order_by("id"):
        if manager.has_role(Role.MANAGER):
            await queue_stats(manager, await prepare_stats(manager, period))


def _day(iso: str) -> Period:
    from datetime import date, timedelta

    day = date.fromisoformat(iso)
    return Period(day, day + timedelta(days=1), f"{day:%Y-%m-%d}")
