"""The managers' charts as stored files: drawn in one thread beside the event loop, and remembered per
(scope, period) for a short while, so a dashboard opened again, or by many at once, draws its chart once.

Drawing takes 0.1–0.2 s of CPU. On the event loop it would stall every request of the process; in as many
threads as there are requests it would take every core (and matplotlib is not thread-safe). So a process
draws one chart at a time, in its own thread, and whoever asks for a chart being drawn waits for that one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from cards.charts import ChartData, draw_chart, load_drawing
from cards.views import Period
from infra.runtime import runtime

log = logging.getLogger(__name__)

CHART_SECONDS = 60  # how long a drawn chart stands for its scope and period: the numbers behind it move slowly

_pool: ThreadPoolExecutor | None = None
_drawing: dict[str, asyncio.Future[str]] = {}  # key -> the chart this process is drawing now
_warming: set[asyncio.Task[str]] = set()


def chart_key(unit_id: int, period: Period) -> str:
    return f"chart:{unit_id}:{period.start.isoformat()}:{period.end.isoformat()}:{period.label}"


def _drawer() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:  # made on first use, not at import
        _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-chart")
    return _pool


def load_drawing_ahead() -> None:
    """Have the chart thread import matplotlib now (about 0.35 s, once a process), so that the first chart
    does not wait for it; the process's start-up and the CLI commands, which draw none, do not either."""
    _drawer().submit(load_drawing)


async def chart_file(key: str, data: ChartData | Callable[[], Awaitable[ChartData]]) -> str:
    """The sha256 of the stored chart for `key`: the one drawn lately, the one being drawn here now, or a new
    one drawn from `data` (a ChartData, or how to read it: read only when the chart must be drawn)."""
    pending = _drawing.get(key)
    if pending is not None:
        return await asyncio.shield(pending)
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()
    _drawing[key] = future
    try:
        sha = await runtime().kv.get(key)
        if not sha or not await runtime().files.exists(sha):
            chart = data if isinstance(data, ChartData) else await data()
            png = await loop.run_in_executor(_drawer(), runtime().draw_chart or draw_chart, chart)
            sha = (await runtime().files.put_image(png)).sha256
            await runtime().kv.set(key, sha, ttl=CHART_SECONDS)
        future.set_result(sha)
        return sha
    except BaseException as exc:
        if isinstance(exc, asyncio.CancelledError):
            future.cancel()
        else:
            future.set_exception(exc)
            future.exception()  # those waiting on it get it; nobody else need retrieve it
        raise
    finally:
        _drawing.pop(key, None)


def warm_chart(key: str, data: ChartData) -> None:
    """Start drawing a chart a page is about to ask for (its numbers are at hand now)."""
    task = asyncio.create_task(chart_file(key, data), name=f"warm {key}")
    _warming.add(task)
    task.add_done_callback(_warmed)


def _warmed(task: asyncio.Task[str]) -> None:
    _warming.discard(task)
    with contextlib.suppress(asyncio.CancelledError):
        if task.exception() is not None:
            log.warning("drawing a chart ahead failed", exc_info=task.exception())
