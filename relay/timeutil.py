from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


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
