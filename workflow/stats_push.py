"""Sending the numbers: on request in chat and as the daily push to every manager."""

from __future__ import annotations

import asyncio
from typing import Any

from cards.charts import stats_chart
from cards.manager import image_message, stats_message
from cards.views import Period
from infra.runtime import runtime
from models import Role, Staff
from workflow import notify
from workflow.stats import parse_period, stats_for

DAILY_PUSH = "daily_stats"


async def send_stats(manager: Staff, period: Period) -> None:
    """The markdown card and the chart image, for the manager's part of the company."""
    stats = await stats_for(manager, period)
    png = await asyncio.to_thread(stats_chart, stats)
    stored = await runtime().files.put_image(png)
    await notify.send(stats_message(manager.userid, stats))
    await notify.send(image_message(manager.userid, stored.sha256))


async def daily_push(payload: dict[str, Any]) -> None:
    period = parse_period("今日") if "date" not in payload else _day(payload["date"])
    for manager in await Staff.filter(active=True).order_by("id"):
        if manager.has_role(Role.MANAGER):
            await send_stats(manager, period)


def _day(iso: str) -> Period:
    from datetime import date, timedelta

    day = date.fromisoformat(iso)
    return Period(day, day + timedelta(days=1), f"{day:%Y-%m-%d}")
