"""What the workers run: the job kinds and the recurring jobs, added once per period."""

from __future__ import annotations

import time as clock
from datetime import datetime, time
from typing import Any

from infra.runtime import runtime
from infra.timeutil import LOCAL_TZ, local_moment, utcnow
from scheduler.jobs import JobHandler
from workflow import alerts, directory, reminders, retention
from workflow.aftersales import MAINTENANCE, MAINTENANCE_BACKFILL, backfill_maintenance
from workflow.backup import BACKUP, nightly_backup
from workflow.jobs import Staged, schedule
from workflow.morning import MORNING, WORKER_MORNING, morning_push, worker_morning
from workflow.stats_push import DAILY_PUSH, MANAGER_PUSH, STATS_CHART, daily_push, manager_push, stats_chart_job

ALERT_SCAN = "alert_scan"

HANDLERS: dict[str, JobHandler | Staged[Any]] = {
    reminders.APPOINTMENT: reminders.appointment_reminder,
    reminders.NUDGE: reminders.accept_nudge,
    reminders.ESCALATE: reminders.accept_escalate,
    MAINTENANCE: reminders.maintenance_reminder,
    MAINTENANCE_BACKFILL: backfill_maintenance,  # type: ignore[dict-item]
    ALERT_SCAN: alerts.scan,  # type: ignore[dict-item]
    DAILY_PUSH: daily_push,
    MANAGER_PUSH: manager_push,
    STATS_CHART: stats_chart_job,
    retention.PURGE: retention.purge,
    BACKUP: nightly_backup,
    MORNING: morning_push,
    WORKER_MORNING: worker_morning,
    directory.SYNC: Staged(directory.fetch_snapshot, directory.apply_snapshot),  # type: ignore[arg-type]
}


class Planner:
    """Adds the recurring jobs for the current period; the unique job key makes that idempotent, so
    any number of workers may plan at once."""

    def __init__(self, every: float = 30.0) -> None:
        self.every = every
        self._last = 0.0

    async def __call__(self) -> None:
        if clock.monotonic() - self._last < self.every:
            return
        self._last = clock.monotonic()
        await plan_recurring()


async def plan_recurring(now: datetime | None = None) -> None:
    config = runtime().config
    now = now or utcnow()
    minutes = max(1, config.schedule.alert_scan_minutes)
    slot = int(now.timestamp() // (minutes * 60))
    await schedule(ALERT_SCAN, f"{ALERT_SCAN}:{slot}", now)
    # Once ever (its key never changes): orders installed before maintenance was scheduled at install.
    await schedule(MAINTENANCE_BACKFILL, f"{MAINTENANCE_BACKFILL}:0022", now)
    local = now.astimezone(LOCAL_TZ)
    hour, minute = (int(x) for x in config.schedule.daily_push_time.split(":"))
    due = local_moment(local.date(), time(hour, minute))
    await schedule(DAILY_PUSH, f"{DAILY_PUSH}:{local.date().isoformat()}", due, {"date": local.date().isoformat()})
    hour, minute = (int(x) for x in config.schedule.morning_push_time.split(":"))
    due = local_moment(local.date(), time(hour, minute))
    await schedule(MORNING, f"{MORNING}:{local.date().isoformat()}", due, {"date": local.date().isoformat()})
    sync = config.directory.sync_minutes
    if config.directory.enabled and sync > 0:
        # The whole WeCom directory, mending what its change events missed.
        await schedule(directory.SYNC, f"{directory.SYNC}:{int(now.timestamp() // (sync * 60))}", now)
    # Personal data past its retention goes once a day, at night.
    await schedule(
        retention.PURGE, f"{retention.PURGE}:{local.date().isoformat()}", local_moment(local.date(), time(3))
    )
    # The nightly backup where one is configured: once a day across all workers (the key), at the set hour.
    if config.backup.path:
        due = local_moment(local.date(), time(config.backup.hour))
        await schedule(BACKUP, f"{BACKUP}:{local.date().isoformat()}", due)
