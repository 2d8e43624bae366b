from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_moment(day: date, at: time = time.min) -> datetime:
    """A local wall-clock moment, in UTC: every datetime Relay stores or compares in the database is UTC,
    because SQLite compares stored datetimes as text and "+08:00" text does not sort with "+00:00"."""
    return datetime.combine(day, at, LOCAL_TZ).astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today() -> date:
    return datetime.now(LOCAL_TZ).date()


def local(dt: datetime) -> datetime:
    return dt.astimezone(LOCAL_TZ)


def fmt_time(dt: datetime) -> str:
    return local(dt).strftime("%m-%d %H:%M")


def fmt_full_time(dt: datetime) -> str:
    return local(dt).strftime("%Y-%m-%d %H:%M")
