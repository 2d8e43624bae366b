"""How many SQL statements the tests make on PostgreSQL, and where from: a pytest plugin that counts every
statement asyncpg runs in the test process by the three innermost frames of Relay's code that issued it,
and by its text, and writes the totals to a file per process when the process ends.

    rm -f /tmp/query-count-*.txt
    RELAY_TEST_BACKENDS=postgres PYTHONPATH=bench .venv/bin/python -m pytest -q -p no:cacheprovider \\
        -p query_count tests/test_finance.py tests/test_tickets.py
    cat /tmp/query-count-*.txt

(The statements of the Relay processes some tests start are not counted: only this process's.)
"""

from __future__ import annotations

import atexit
import collections
import os
import traceback
from pathlib import Path
from typing import Any

import asyncpg.connection

ROOT = str(Path(__file__).resolve().parent.parent) + os.sep
PATTERN = os.environ.get("QUERY_COUNT_FILES", "/tmp/query-count-{pid}.txt")
SITES: collections.Counter[str] = collections.Counter()
TEXTS: collections.Counter[str] = collections.Counter()
_execute = asyncpg.connection.Connection._do_execute


def _site() -> str:
    frames = []
    for frame in reversed(traceback.extract_stack(limit=40)):
        if frame.filename.startswith(ROOT) and "site-packages" not in frame.filename and frame.filename != __file__:
            frames.append(f"{frame.filename[len(ROOT) :]}:{frame.lineno} {frame.name}")
            if len(frames) == 3:
                break
    return " < ".join(frames) or "(no frame of Relay's)"


def _counted(self: asyncpg.connection.Connection, query: str, *args: Any, **kwargs: Any) -> Any:
    SITES[_site()] += 1
    TEXTS[" ".join(query.split())[:100]] += 1
    return _execute(self, query, *args, **kwargs)


asyncpg.connection.Connection._do_execute = _counted  # type: ignore[method-assign]


@atexit.register
def _write() -> None:
    if not SITES:
        return
    lines = [f"{sum(SITES.values())} statements", "", "by where they were made:"]
    lines += [f"{n:7d}  {site}" for site, n in SITES.most_common(60)]
    lines += ["", "by text:"]
    lines += [f"{n:7d}  {text}" for text, n in TEXTS.most_common(40)]
    Path(PATTERN.format(pid=os.getpid())).write_text("\n".join(lines) + "\n", encoding="utf-8")
