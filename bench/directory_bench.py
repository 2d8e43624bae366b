"""Benchmark: a full directory sync (workflow/directory.py) against the emulator's directory API.

A company of `--stores` stores under 10 regions with `--members` members spread over the stores. Times the
read (department/list, then user/list per department, over HTTP on loopback) and the apply (one
transaction), for the first sync (every unit and member created), a second one (nothing to change) and
one after 1% of the members left. A fresh database (a temporary SQLite file, or a temporary PostgreSQL
database on 127.0.0.1:5432), dropped on exit.

    .venv/bin/python bench/directory_bench.py [--backend sqlite|postgres] [--stores 200] [--members 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
from aiohttp.test_utils import TestServer, unused_port
from tortoise.transactions import in_transaction

from emulator import EMULATOR_STATE, EmulatorConfig, EmulatorDepartment, EmulatorUser, create_app
from relay.app import running_services
from relay.config import load_config
from relay.db import migrate
from workflow import directory

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
WECOM = {
    "corp_id": "wwbench0000000001",
    "agent_id": 1000002,
    "secret": "bench-secret",
    "token": "benchtoken",
    "encoding_aes_key": "yzdVHGx2Cmn+vM6vIOFmsGZySdXRPIiGZ/bQDmObQbU",
}


def company(stores: int, members: int) -> tuple[tuple[EmulatorDepartment, ...], tuple[EmulatorUser, ...]]:
    depts = [EmulatorDepartment(1, "公司", 0)]
    depts += [EmulatorDepartment(10 + r, f"区域{r}", 1) for r in range(10)]
    depts += [EmulatorDepartment(1000 + s, f"门店{s}", 10 + s % 10) for s in range(stores)]
    users = tuple(EmulatorUser(f"m{i:06d}", f"成员{i}", [1000 + i % stores]) for i in range(members))
    return tuple(depts), users


async def timed_sync() -> tuple[float, float, directory.SyncResult]:
    start = time.perf_counter()
    snapshot = await directory.fetch_snapshot({})
    read = time.perf_counter() - start
    start = time.perf_counter()
    async with in_transaction():
        result = await directory.apply_snapshot({}, snapshot)
    return read, time.perf_counter() - start, result


async def run(url: str, stores: int, members: int, data: Path) -> None:
    await migrate(url)
    port = unused_port()
    depts, users = company(stores, members)
    emu_conf = EmulatorConfig(
        corp_id=WECOM["corp_id"],  # type: ignore[arg-type]
        corp_secret=WECOM["secret"],  # type: ignore[arg-type]
        agent_id=WECOM["agent_id"],  # type: ignore[arg-type]
        token=WECOM["token"],  # type: ignore[arg-type]
        encoding_aes_key=WECOM["encoding_aes_key"],  # type: ignore[arg-type]
        callback_url="http://127.0.0.1:9/wecom/callback",
        users=users,
        departments=depts,
    )
    emulator = TestServer(create_app(emu_conf), host="127.0.0.1", port=port)
    await emulator.start_server()
    config = load_config(None, demo=True).replace(
        database={"url": url},
        wecom={**WECOM, "api_base": f"http://127.0.0.1:{port}/cgi-bin/"},
        storage={"path": str(data / "files")},
        directory={"enabled": True},
    )
    try:
        async with running_services(config, background=False):
            for label in ("first sync", "no change"):
                read, apply, result = await timed_sync()
                made = f"{result.units_created} units, {len(result.joined)} joined"
                print(f"{label}: read {read * 1000:.0f} ms, apply {apply * 1000:.0f} ms ({made})")
            state = emulator.app[EMULATOR_STATE]
            for user in users[: members // 100]:
                await state.member_leaves(user.userid, notify=False)
            read, apply, result = await timed_sync()
            print(f"1% left: read {read * 1000:.0f} ms, apply {apply * 1000:.0f} ms ({len(result.left)} deactivated)")
            print(f"calls: {dict(state.calls)}")
    finally:
        await emulator.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--members", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.backend == "sqlite":
            await run(f"sqlite://{Path(tmp) / 'bench.sqlite3'}", args.stores, args.members, Path(tmp))
            return
        name = f"relay_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        try:
            await run(f"postgres://postgres@127.0.0.1:5432/{name}", args.stores, args.members, Path(tmp))
        finally:
            admin = await asyncpg.connect(PG_ADMIN)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
