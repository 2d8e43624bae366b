"""The yardstick for the callback benchmark: the least a correct WeCom callback can do.

Checks the signature (sha1 of the sorted four, compared in constant time) and the timestamp, decrypts
(AES-256-CBC, PKCS#7 to 32, the corp id at the end), parses the inner XML, and stores the message with one
INSERT ... ON CONFLICT DO NOTHING on its dedupe key (a re-send inserts nothing), then answers an empty 200.
No framework beyond aiohttp, no ORM, no access log. Uses its own table in the database it is given, with
a connection pool as large as Relay's (tortoise's default, 5) on PostgreSQL, one connection on SQLite.

Run: python bench/minimal_server.py --port 9101 --database URL --token T --aes-key K --corp-id C
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import struct
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MAX_BODY = 64 * 1024
MAX_AGE = 600
TABLE = "bench_minimal_inbox"
DATABASE = web.AppKey("database", object)


class Store(Protocol):
    """Where the minimal handler keeps a message: one conditional insert, True if it was new."""

    async def insert(self, key: str, userid: str, msg_type: str, payload: str) -> bool: ...

    async def close(self) -> None: ...


class PostgresStore(Store):
    @classmethod
    async def open(cls, url: str, pool_size: int) -> PostgresStore:
        import asyncpg

        self = cls()
        self.pool = await asyncpg.create_pool(url, min_size=1, max_size=pool_size)
        await self.pool.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id BIGSERIAL PRIMARY KEY, dedupe_key TEXT UNIQUE NOT NULL,"
            " userid TEXT NOT NULL, msg_type TEXT NOT NULL, payload JSONB NOT NULL, received_at TIMESTAMPTZ NOT NULL)"
        )
        return self

    async def insert(self, key: str, userid: str, msg_type: str, payload: str) -> bool:
        row = await self.pool.fetchrow(
            f"INSERT INTO {TABLE} (dedupe_key, userid, msg_type, payload, received_at) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            key,
            userid,
            msg_type,
            payload,
            datetime.now(UTC),
        )
        return row is not None

    async def close(self) -> None:
        await self.pool.close()


class SqliteStore(Store):
    @classmethod
    async def open(cls, path: str) -> SqliteStore:
        import aiosqlite

        self = cls()
        self.conn = await aiosqlite.connect(path, isolation_level=None)
        await self.conn.execute("PRAGMA journal_mode=WAL")  # as Relay's (tortoise's) SQLite connection
        await self.conn.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY, dedupe_key TEXT UNIQUE NOT NULL,"
            " userid TEXT NOT NULL, msg_type TEXT NOT NULL, payload TEXT NOT NULL, received_at TEXT NOT NULL)"
        )
        return self

    async def insert(self, key: str, userid: str, msg_type: str, payload: str) -> bool:
        rows = await self.conn.execute_fetchall(
            f"INSERT INTO {TABLE} (dedupe_key, userid, msg_type, payload, received_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
            (key, userid, msg_type, payload, datetime.now(UTC).isoformat()),
        )
        return bool(rows)

    async def close(self) -> None:
        await self.conn.close()


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def decrypt(aes_key: bytes, corp_id: str, encrypted: str) -> bytes:
    try:
        decryptor = Cipher(algorithms.AES(aes_key), modes.CBC(aes_key[:16])).decryptor()
        plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    except ValueError as exc:
        raise Refused(400, "cannot decrypt") from exc
    pad = plain[-1] if plain else 0
    if not 1 <= pad <= 32:
        raise Refused(400, "bad padding")
    plain = plain[16:-pad]  # 16 random bytes first
    (length,) = struct.unpack(">I", plain[:4])
    if plain[4 + length :].decode(errors="replace") != corp_id:
        raise Refused(400, "another corp")
    return plain[4 : 4 + length]


def fields(xml: bytes) -> dict[str, str]:
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise Refused(400, "malformed XML") from exc
    return {child.tag: child.text or "" for child in root}


def create_app(store: Store, *, token: str, aes_key: bytes, corp_id: str) -> web.Application:
    async def callback(request: web.Request) -> web.Response:
        try:
            q = request.query
            signature, timestamp, nonce = q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", "")
            if not (signature and timestamp and nonce):
                raise Refused(400, "missing parameter")
            body = await request.content.read(MAX_BODY + 1)
            if len(body) > MAX_BODY:
                raise Refused(413, "too large")
            encrypted = fields(body).get("Encrypt", "")
            expected = hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()
            if not encrypted or not hmac.compare_digest(expected, signature):
                raise Refused(403, "invalid signature")
            if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_AGE:
                raise Refused(403, "stale timestamp")
            inner = fields(decrypt(aes_key, corp_id, encrypted))
            key = inner.get("MsgId") or "|".join(
                inner.get(k, "") for k in ("FromUserName", "CreateTime", "Event", "TaskId", "EventKey", "ResponseCode")
            )
            await store.insert(
                key, inner.get("FromUserName", ""), inner.get("MsgType", ""), json.dumps(inner, ensure_ascii=False)
            )
        except Refused as exc:
            return web.Response(status=exc.status, text=str(exc))
        return web.Response(status=200, text="")

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/wecom/callback", callback)
    app.router.add_get("/healthz", healthz)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="the minimal correct WeCom callback (verify, decrypt, one insert)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True, help="postgres://... or sqlite://PATH")
    parser.add_argument("--pool", type=int, default=5, help="PostgreSQL connections (Relay's default: 5)")
    parser.add_argument("--token", required=True)
    parser.add_argument("--aes-key", required=True, help="the 43-character EncodingAESKey")
    parser.add_argument("--corp-id", required=True)
    args = parser.parse_args(argv)
    aes_key = base64.b64decode(args.aes_key + "=")

    async def make() -> web.Application:
        store: Any
        if args.database.startswith("postgres"):
            store = await PostgresStore.open(args.database, args.pool)
        else:
            store = await SqliteStore.open(args.database.removeprefix("sqlite://"))
        app = create_app(store, token=args.token, aes_key=aes_key, corp_id=args.corp_id)

        async def closing(app: web.Application) -> AsyncIterator[None]:
            yield
            await store.close()

        app.cleanup_ctx.append(closing)
        return app

    web.run_app(make(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
