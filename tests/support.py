"""The test world: Relay's real app and the WeCom emulator on local ports, over a clean database."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import io
import itertools
import os
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestServer, unused_port
from PIL import Image
from tortoise.transactions import in_transaction

from cards.charts import ChartData, draw_chart
from emulator import EMULATOR_STATE, CardView, EmulatorState
from emulator import create_app as create_emulator
from infra.config import Config
from infra.db import db
from infra.kv import redis_client
from infra.timeutil import utcnow
from models import InboxMessage, Job, MessageState, OutboxMessage, Staff, Task
from relay.app import SERVICES, Services, init_app
from relay.config import load_config
from relay.demo import demo_data, emulator_config
from webviews.auth import SESSION_COOKIE, session_value
from workflow.admin import import_products, import_staff

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


def redis_for_worker(variable: str, default: str) -> str:
    """The test Redis database for this pytest-xdist worker: tests flush theirs, so each worker has its
    own (gw0 the configured one, gw1 the one below it, ...)."""
    url = os.environ.get(variable, default)
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    base, _, number = url.rpartition("/")
    return f"{base}/{int(number) - worker}"


REDIS_URL = redis_for_worker("RELAY_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TABLES = [
    "news_delivery",
    "news",
    "stock_move",
    "stock_level",
    "customer_request",
    "sms_message",
    "lead_event",
    "lead",
    "customer_message",
    "external_contact",
    "contact_way",
    "approval",
    "audit_log",
    "webhook_delivery",
    "webhook_subscription",
    "idempotency_key",
    "service_token",
    "alert",
    "alert_threshold",
    "job",
    "visit",
    "signature",
    "invoice",
    "payment",
    "order_event",
    "attachment",
    "ticket",
    "task",
    "order_piece",
    "order_item",
    '"order"',
    "dealer_order_event",
    "dealer_piece",
    "dealer_order_line",
    "dealer_order",
    "warehouse",
    "customer",
    "inbox",
    "outbox",
    "staff",
    "price_list_entry",
    "price_list",
    "product",
    "org_unit",
]

SECRETS: dict[str, dict[str, Any]] = {
    "wecom": {
        "corp_id": "wwrelaytest000001",
        "agent_id": 1000002,
        "secret": "relay-test-secret",
        "token": "QDG6eK",
        "encoding_aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    },
    "security": {
        "secret_key": "relay-test-session-key-of-32-chars-or-more",
        "pii_key": "relay-test-pii-key-of-32-chars-or-more-too",
    },
}


# A test signs in and out many times a minute from one address: the limits are tested on their own.
NO_LIMITS = {"oauth_per_minute": 100_000, "sign_per_minute": 100_000, "api_per_minute": 100_000}


def test_config(
    *,
    database_url: str,
    redis_url: str,
    storage: Path,
    relay_port: int,
    emu_port: int,
    security: dict[str, Any] | None = None,
    extra: dict[str, dict[str, Any]] | None = None,
) -> Config:
    emu = f"http://127.0.0.1:{emu_port}"
    overrides: dict[str, dict[str, Any]] = {
        "server": {
            "host": "127.0.0.1",
            "port": relay_port,
            "public_url": f"http://127.0.0.1:{relay_port}",
            "frame_ancestors": emu,  # the console shows H5 pages in its phone frame
        },
        "database": {"url": database_url},
        "redis": {"url": redis_url},
        "wecom": {
            **SECRETS["wecom"],
            "api_base": f"{emu}/cgi-bin/",
            "oauth_url": f"{emu}/connect/oauth2/authorize",
            "request_timeout": 2.0,
            "max_backoff": 0.2,
        },
        "storage": {"path": str(storage)},
        "security": {**SECRETS["security"], **NO_LIMITS, **(security or {})},
        # Jobs follow the clock: the tests run the scheduler by hand when they test it. A message whose
        # handling failed is tried again within a tenth of a second, not production's seconds.
        "schedule": {"automatic": False, "inbox_retry_seconds": 0.05},
    }
    for section, values in (extra or {}).items():  # a test's settings, over these section by section
        overrides[section] = {**overrides.get(section, {}), **values}
    return load_config(None, env={}, overrides=overrides)


def jpeg(width: int = 640, height: int = 480, color: tuple[int, int, int] = (200, 120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG")
    return out.getvalue()


RESTART_SEQUENCES = """DO $$ DECLARE s record; BEGIN
  FOR s IN SELECT sequence_name FROM information_schema.sequences
           WHERE sequence_schema = 'public' AND sequence_name <> 'tortoise_migrations_id_seq' LOOP
    PERFORM setval(quote_ident(s.sequence_name), 1, false);
  END LOOP;
END $$;"""


async def clean_database() -> None:
    conn = db()
    if conn.capabilities.dialect == "postgres":
        # DELETE, not TRUNCATE: a test's few rows go in milliseconds, where TRUNCATE makes every table's files
        # anew (0.3–1 s for these tables). The ids start again at 1, as TRUNCATE … RESTART IDENTITY did.
        deletes = "".join(f"DELETE FROM {table};" for table in TABLES)
        await conn.execute_script(deletes + RESTART_SEQUENCES)
    else:
        deletes = "".join(f"DELETE FROM {table};" for table in TABLES)
        # org_unit refers to itself: order cannot help, so constraints are off while emptying.
        await conn.execute_script(
            f"PRAGMA foreign_keys=OFF;{deletes}DELETE FROM sqlite_sequence;PRAGMA foreign_keys=ON;"
        )


# The demo's staff and catalogue as the imports left them, per database: the first world imports them
# through the workflow, every later one puts the same rows back (same ids) in a few statements.
_SEEDED: dict[str, list[tuple[str, list[str], list[list[Any]]]]] = {}


async def seed_database(database_url: str) -> None:
    seeded = _SEEDED.get(database_url)
    if seeded is None:
        await import_staff(demo_data("staff.csv"))
        await import_products(demo_data("products.csv"))
        await import_products(demo_data("stock_products.csv"))
        _SEEDED[database_url] = await _rows_of_every_table()
        return
    conn = db()
    postgres = conn.capabilities.dialect == "postgres"
    async with in_transaction() as tx:
        for table, columns, rows in seeded:
            marks = ", ".join(f"${i}" if postgres else "?" for i in range(1, len(columns) + 1))
            names = ", ".join(f'"{c}"' for c in columns)
            await tx.execute_many(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
            if postgres and "id" in columns:
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                await tx.execute_query(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")


async def _rows_of_every_table() -> list[tuple[str, list[str], list[list[Any]]]]:
    """Every non-empty table's rows, parents before children (TABLES lists children first)."""
    found = []
    for table in reversed(TABLES):
        rows = await db().execute_query_dict(f"SELECT * FROM {table} ORDER BY 1")
        if rows:
            columns = list(rows[0])
            found.append((table, columns, [[row[c] for c in columns] for row in rows]))
    return found


@dataclass
class World:
    config: Config
    relay: TestServer
    emulator: TestServer

    @property
    def emu(self) -> EmulatorState:
        return self.emulator.app[EMULATOR_STATE]

    @property
    def services(self) -> Services:
        return self.relay.app[SERVICES]

    @property
    def relay_url(self) -> str:
        return str(self.relay.make_url(""))

    @property
    def emulator_url(self) -> str:
        return str(self.emulator.make_url(""))

    async def settle(self, within: float = 15.0) -> None:
        """Wait until every stored message is handled and every due outbox row is delivered."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            pending_in = await InboxMessage.filter(state=MessageState.PENDING).count()
            due_out = await OutboxMessage.filter(state=MessageState.PENDING, next_attempt_at__lte=utcnow()).count()
            if not pending_in and not due_out:
                return
            self.services.inbox.wake()
            self.services.outbox.wake()
            await asyncio.sleep(0.02)
        raise AssertionError(f"not settled in {within}s: {pending_in} inbound, {due_out} outbound pending")

    async def say(self, userid: str, text: str) -> None:
        result = await self.emu.user_sends_text(userid, text)
        assert result.status == 200, result
        await self.settle()

    async def photo(self, userid: str, data: bytes | None = None, filename: str = "site.jpg") -> None:
        result = await self.emu.user_sends_image(userid, data or jpeg(), filename)
        assert result.status == 200, result
        await self.settle()

    def card(self, userid: str, title: str) -> CardView:
        """The latest card with this title in the member's chat."""
        for card in reversed(self.emu.cards(userid)):
            if card.title == title:
                return card
        raise AssertionError(f"{userid} has no card {title!r}; has {[c.title for c in self.emu.cards(userid)]}")

    async def tap(self, userid: str, card: CardView, button_text: str) -> None:
        for button in card.buttons:
            if button.text == button_text or button.text.startswith(button_text):
                result = await self.emu.user_clicks(userid, card.msgid, button.key)
                assert result.status == 200, result
                await self.settle()
                return
        raise AssertionError(f"no button {button_text!r} on {card.title}: {card.button_texts}")

    def texts(self, userid: str) -> list[str]:
        return self.emu.texts(userid)

    def last_text(self, userid: str) -> str:
        texts = self.texts(userid)
        assert texts, f"{userid} got no text"
        return texts[-1]

    @contextlib.asynccontextmanager
    async def browser_session(self, userid: str) -> AsyncIterator[aiohttp.ClientSession]:
        """An HTTP session that has come through WeCom OAuth as this member (like opening a card link)."""
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            async with session.get(
                f"{self.emulator_url}/emulator/open", params={"userid": userid, "url": f"{self.relay_url}/h5/orders"}
            ) as resp:
                assert resp.status == 200, await resp.text()
            yield session

    @contextlib.asynccontextmanager
    async def signed_in(self, userid: str) -> AsyncIterator[aiohttp.ClientSession]:
        """An HTTP session with the member's session cookie, for members the emulator's directory does not
        hold (made by a test); the OAuth round trip itself is what browser_session goes through."""
        async with aiohttp.ClientSession(cookies={SESSION_COOKIE: session_value(userid)}) as session:
            yield session

    async def staff(self, userid: str) -> Staff:
        return await Staff.get(userid=userid)


def form_errors(html: str) -> str:
    match = re.search(r'id="form-error">([^<]*)<', html)
    return match.group(1) if match else ""


@contextlib.asynccontextmanager
async def start_world(
    *,
    database_url: str,
    redis_url: str,
    storage: Path,
    seed: bool = True,
    security: dict[str, Any] | None = None,
    extra: dict[str, dict[str, Any]] | None = None,
) -> AsyncIterator[World]:
    if redis_url:
        client = redis_client(redis_url)
        await client.flushdb()
        await client.aclose()
    config, emulator, relay = await _start_servers(
        database_url=database_url, redis_url=redis_url, storage=storage, security=security, extra=extra
    )
    try:
        await clean_database()
        if seed:
            await seed_database(database_url)
        yield World(config=config, relay=relay, emulator=emulator)
    finally:
        # What this test left undelivered goes with it: the next test's Relay starts its loops before it
        # empties the database, and would otherwise send it to the next test's emulator.
        await OutboxMessage.filter(state=MessageState.PENDING).delete()
        await Job.filter(state=MessageState.PENDING).delete()
        await relay.close()
        await emulator.close()


@contextlib.asynccontextmanager
async def fresh_database(like: str, folder: Path) -> AsyncIterator[str]:
    """A new, empty database of the same kind as `like` (a URL, or just "sqlite" or "postgres"), nothing
    migrated; a PostgreSQL one is dropped after."""
    if like.startswith("sqlite"):
        yield f"sqlite://{folder / 'fresh.sqlite3'}"
        return
    name = f"relay_fresh_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _start_servers(
    *,
    database_url: str,
    redis_url: str,
    storage: Path,
    security: dict[str, Any] | None = None,
    extra: dict[str, dict[str, Any]] | None = None,
) -> tuple[Config, TestServer, TestServer]:
    """Relay and the emulator on free ports. Each must know the other's port before it starts, so a
    port taken in between (another process on the machine) means trying again with new ones."""
    for attempt in range(5):
        relay_port, emu_port = unused_port(), unused_port()
        config = test_config(
            database_url=database_url,
            redis_url=redis_url,
            storage=storage,
            relay_port=relay_port,
            emu_port=emu_port,
            security=security,
            extra=extra,
        )
        emu_conf = emulator_config(
            config, emulator_url=f"http://127.0.0.1:{emu_port}", staff_csv=demo_data("staff.csv")
        )
        emulator = TestServer(create_emulator(emu_conf), host="127.0.0.1", port=emu_port)
        relay = TestServer(init_app(config), host="127.0.0.1", port=relay_port)
        try:
            await emulator.start_server()
            await relay.start_server()
            return config, emulator, relay
        except OSError as exc:
            await relay.close()
            await emulator.close()
            if exc.errno != errno.EADDRINUSE or attempt == 4:
                raise
    raise AssertionError("unreachable")


async def serve(app: web.Application) -> TestServer:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


def as_dict(obj: Any) -> dict[str, Any]:
    return dict(obj)


async def assignee_of(task: Task) -> str:
    """The userid of whoever the task is assigned to."""
    assert task.assignee_id is not None
    return (await Staff.get(id=task.assignee_id)).userid


class HeldChart:
    """The real chart drawing, its first call held in its thread until the test releases it: what else
    happens meanwhile shows what waits for a chart. Install it as the runtime's draw_chart."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._calls = itertools.count(1)
        self._release = threading.Event()
        self.drawing = asyncio.Event()  # the held chart is being drawn
        self.finished = threading.Event()  # the held chart is drawn

    def __call__(self, chart: ChartData) -> bytes:
        held = next(self._calls) == 1
        if held:
            self._loop.call_soon_threadsafe(self.drawing.set)
            # The timeout only keeps a regression from hanging the suite; the test releases it.
            self._release.wait(timeout=30)
        png = draw_chart(chart)
        if held:
            self.finished.set()
        return png

    def release(self) -> None:
        self._release.set()
