"""CPU of replaying every migration (tortoise's path for a database that is not empty; an empty one is made
from the schema snapshot instead), with Python's collector as it is and as `relay.db.migrate` holds it
back. Each run in a new process on a new SQLite file:

    .venv/bin/python bench/migrate_bench.py
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tortoise import Tortoise
from tortoise.migrations.api import migrate as tortoise_migrate

from relay.db import fewer_collections, tortoise_config


async def replay(held_back: bool) -> float:
    url = f"sqlite://{Path(tempfile.mkdtemp()) / 'replay.sqlite3'}"
    start = time.process_time()
    with fewer_collections() if held_back else contextlib.nullcontext():
        await tortoise_migrate(config=tortoise_config(url))
    await Tortoise.close_connections()
    return time.process_time() - start


def main() -> None:
    if len(sys.argv) == 2:
        print(f"{asyncio.run(replay(sys.argv[1] == 'held')):.2f}")
        return
    for mode in ("default", "held") * 3:
        out = subprocess.run([sys.executable, __file__, mode], capture_output=True, text=True, check=True)
        print(f"{mode:8} {float(out.stdout):.2f} s of CPU")


if __name__ == "__main__":
    main()
