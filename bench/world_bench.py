"""What one test's world costs: Relay and the emulator started on local ports over an emptied and re-seeded
database, then stopped (tests/support.py `start_world`), as every test that takes `world` does, with the
database kept open as the tests' session databases are (relay/db.py `kept_open`; `--not-kept` opens and
closes it with each world, as before). Per world: wall time, CPU of this process, and PostgreSQL's CPU (its
postmaster's and its backends', read from /proc).

    .venv/bin/python bench/world_bench.py sqlite 30
    .venv/bin/python bench/world_bench.py postgres 30 [--not-kept]
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from relay.cli import run_loop  # noqa: E402  (uvloop, as the tests and relay serve run on)
from relay.db import kept_open, migrate  # noqa: E402
from tests.support import PG_ADMIN, REDIS_URL, start_world  # noqa: E402


def _ticks(pid: int, children: bool) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime, stime (and cutime, cstime: the backends that have ended) are fields 14-17.
    return sum(int(x) for x in fields[11 : 15 if children else 13])


def postgres_cpu() -> float:
    """Seconds of CPU PostgreSQL has used: the postmaster with its ended backends, and the live ones."""
    postmaster = int(subprocess.check_output(["pgrep", "-o", "-x", "postgres"]).split()[0])
    total = _ticks(postmaster, children=True)
    for child in subprocess.check_output(["pgrep", "-P", str(postmaster)]).split():
        with contextlib.suppress(FileNotFoundError):  # ended meanwhile: counted with the postmaster's children
            total += _ticks(int(child), children=False)
    return total / os.sysconf("SC_CLK_TCK")


async def main(kind: str, worlds: int, kept: bool) -> None:
    folder = Path(tempfile.mkdtemp())
    name = ""
    if kind == "sqlite":
        url, redis_url = f"sqlite://{folder / 'relay.sqlite3'}", ""
    else:
        name = f"relay_world_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        url, redis_url = f"postgres://postgres@127.0.0.1:5432/{name}", REDIS_URL
    try:
        await migrate(url)
        async with kept_open(url) if kept else contextlib.nullcontext():
            await _worlds(kind, url, redis_url, folder, worlds, postgres=bool(name))
    finally:
        if name:
            admin = await asyncpg.connect(PG_ADMIN)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


async def _worlds(kind: str, url: str, redis_url: str, folder: Path, worlds: int, *, postgres: bool) -> None:
    async with start_world(database_url=url, redis_url=redis_url, storage=folder / "files-0"):
        pass  # the first world imports the staff and catalogue; later ones put the rows back
    cpu, wall, pg = time.process_time(), time.perf_counter(), postgres_cpu() if postgres else 0.0
    for i in range(worlds):
        async with start_world(database_url=url, redis_url=redis_url, storage=folder / f"files-{i + 1}"):
            pass
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    pg = (postgres_cpu() - pg) if postgres else 0.0
    print(
        f"{kind}: {worlds} worlds, per world {wall / worlds * 1000:.0f} ms wall, "
        f"{cpu / worlds * 1000:.0f} ms CPU here, {pg / worlds * 1000:.0f} ms CPU in PostgreSQL"
    )


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--not-kept"]
    kind, worlds = (args[0] if args else "sqlite"), (int(args[1]) if len(args) > 1 else 30)
    run_loop(main(kind, worlds, kept="--not-kept" not in sys.argv))
