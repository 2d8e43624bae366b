"""Fixtures: real databases (SQLite and PostgreSQL), real Redis, and a world of Relay + the WeCom emulator.

Every test that takes `world` runs twice: on SQLite with the in-process store (the demo's setup) and
on PostgreSQL with Redis (production's); the browser tests and the permission matrix on the latter only
(ONE_BACKEND). Set RELAY_TEST_BACKENDS=sqlite to run one.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import uvloop

from infra.kv import KeyValueStore, MemoryStore, RedisStore
from relay.db import kept_open, migrate
from tests.s3_server import S3Server
from tests.support import PG_ADMIN, REDIS_URL, World, start_world
from tests.upgrade import upgraded


# `kill -USR1 <pid>` writes every asyncio task's stack to /tmp/relay-tasks-<pid>.txt: what a hung test
# is waiting for (stderr is pytest's while a test runs).
def _dump_tasks(signum: int, frame: object) -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    with open(f"/tmp/relay-tasks-{os.getpid()}.txt", "w", encoding="utf-8") as out:
        for task in asyncio.all_tasks(loop):
            task.print_stack(file=out)


signal.signal(signal.SIGUSR1, _dump_tasks)

# The tests run on uvloop's event loop, as `relay serve`, `relay worker` and the CLI do (relay/cli.py):
# pytest-asyncio's runners make their loops through the policy. (Its loop-factory hook, the newer way, tore
# the session-scoped databases down between tests under xdist: 300 errors in a run.)
asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

# The garbage collector, tuned for a test process: it holds every module of Relay, the emulator, tortoise's
# models and the tests, and Python's default thresholds walked all of it several times a second (tortoise
# makes thousands of model classes when it replays the migrations). With the imports frozen out of its
# reach and young collections every 100,000 allocations instead of 700, the migration tests take half the
# CPU and the suite a fifth less; no test depends on when garbage is collected.
gc.set_threshold(100_000, 50, 100)


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()
    gc.freeze()


BACKENDS = [b for b in os.environ.get("RELAY_TEST_BACKENDS", "sqlite,postgres").split(",") if b]
# Tests whose subject does not depend on the database run once, on production's backend (PostgreSQL +
# Redis): what a person clicks and draws in Chromium (everything in tests/browser) and the lifecycle's
# permission matrix (marked `one_backend`). The queries their pages and actions make run on both backends
# in the other tests; a second pass on SQLite was a fifth of the suite's time and found nothing those did
# not. RELAY_TEST_ONE_BACKEND=sqlite,postgres runs them on both.
_ONE = os.environ.get("RELAY_TEST_ONE_BACKEND", "postgres").split(",")
ONE_BACKEND = [b for b in BACKENDS if b in _ONE] or BACKENDS[:1]
BROWSER_TESTS = Path(__file__).parent / "browser"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "one_backend: run on production's backend only (ONE_BACKEND in tests/conftest.py)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" in metafunc.fixturenames:
        in_browser = BROWSER_TESTS in metafunc.definition.path.parents
        once = in_browser or metafunc.definition.get_closest_marker("one_backend") is not None
        metafunc.parametrize("database", ONE_BACKEND if once else BACKENDS, indirect=True, scope="session")


@pytest.fixture(scope="session")
async def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A migrated, empty database for the whole session, kept open in this process (relay/db.py
    `kept_open`: each test's Relay takes the open connections); the URL."""
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path_factory.mktemp('db') / 'relay.sqlite3'}"
        await migrate(url)
        async with kept_open(url):
            yield url
        return
    name = f"relay_test_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    await migrate(url)
    async with kept_open(url):
        yield url
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


class Upgrades:
    """The upgraded databases of the session, one per backend, each made when first asked for."""

    def __init__(self, stack: contextlib.AsyncExitStack, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._stack, self._tmp = stack, tmp_path_factory
        self._urls: dict[str, str] = {}

    async def url(self, kind: str) -> str:
        if kind not in self._urls:
            made = upgraded(kind, self._tmp.mktemp("upgrade"))
            self._urls[kind] = await self._stack.enter_async_context(made)
        return self._urls[kind]


@pytest.fixture(scope="session")
async def upgrades(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Upgrades]:
    async with contextlib.AsyncExitStack() as stack:
        yield Upgrades(stack, tmp_path_factory)


@pytest.fixture(params=BACKENDS)
async def upgraded_database(request: pytest.FixtureRequest, upgrades: Upgrades) -> str:
    """A database upgraded release by release, with the records of each time (tests/upgrade.py); the URL.
    Read it, do not change it: the tests of the migrations share it. Kept per backend for the session:
    as a parametrized session fixture, pytest held one backend's at a time and made each again whenever
    the tests of the two backends alternated (four times in a run, 12 s of CPU each)."""
    return await upgrades.url(request.param)


@pytest.fixture
def redis_url(database: str) -> str:
    """Redis alongside PostgreSQL, the in-process store alongside SQLite."""
    return REDIS_URL if database.startswith("postgres") else ""


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """The local S3-compatible server (moto), started once for the tests that keep files in a bucket."""
    server = S3Server()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def storage_backend() -> str:
    """Where the world keeps its files: "disk", or "bucket" where a module parametrizes it."""
    return "disk"


@pytest.fixture
def storage_extra(request: pytest.FixtureRequest, storage_backend: str, tmp_path: Path) -> dict[str, dict[str, Any]]:
    if storage_backend == "disk":
        return {}
    server: S3Server = request.getfixturevalue("s3_server")
    return {"storage": server.storage(server.new_bucket(), tmp_path / "files")}


@pytest.fixture
def world_settings() -> dict[str, dict[str, Any]]:
    """Settings a module gives its worlds, section by section, over the tests' own (tests/support.py)."""
    return {}


@pytest.fixture
async def world(
    database: str,
    redis_url: str,
    tmp_path: Path,
    storage_extra: dict[str, dict[str, Any]],
    world_settings: dict[str, dict[str, Any]],
) -> AsyncIterator[World]:
    extra = {**world_settings, **storage_extra}
    async with start_world(database_url=database, redis_url=redis_url, storage=tmp_path / "files", extra=extra) as w:
        yield w


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def chromium_path() -> Iterator[str]:
    path = os.environ.get("RELAY_CHROMIUM", "/usr/bin/chromium-headless-shell")
    if not Path(path).exists():
        pytest.fail(
            f"Chromium not found at {path}: install Debian's chromium-headless-shell (the README's test command "
            "does), or set RELAY_CHROMIUM to a Chromium"
        )
    yield path


@pytest.fixture(params=["memory", "redis"])
async def make_store(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], KeyValueStore]]:
    """Opens handles on one store: for Redis, separate connections (like separate processes) on one prefix."""
    prefix = f"relay-test-{uuid.uuid4().hex[:10]}:"
    memory = MemoryStore()
    opened: list[KeyValueStore] = []

    def make() -> KeyValueStore:
        if request.param == "memory":
            return memory
        store = RedisStore(REDIS_URL, prefix=prefix)
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()
