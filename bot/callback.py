"""GET/POST /wecom/callback: verify, decrypt, drop duplicates, store, answer. Nothing slow happens here."""

from __future__ import annotations

import logging
import time

from aiohttp import web

from bot.crypto import CallbackCrypto, CallbackRejected
from bot.events import MalformedEvent, parse_event
from bot.inbox import store_inbound
from infra.metrics import CALLBACKS

log = logging.getLogger(__name__)

CALLBACK_CRYPTO = web.AppKey("callback_crypto", CallbackCrypto)
ON_STORED = web.AppKey("on_stored", object)
MAX_BODY = 64 * 1024  # callbacks are small XML; anything larger is not from WeCom
# A signed callback older than this is a replay, not a WeCom re-send (those come within seconds).
MAX_AGE = 600


def _params(request: web.Request, *names: str) -> dict[str, str]:
    values = {}
    for name in names:
        value = request.query.get(name, "")
        if not value:
            raise CallbackRejected(400, f"missing {name}")
        values[name] = value
    return values


def _check_timestamp(timestamp: str) -> None:
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError as exc:
        raise CallbackRejected(400, "bad timestamp") from exc
    if age > MAX_AGE:
        raise CallbackRejected(403, "stale timestamp")


async def _read_body(request: web.Request) -> bytes:
    """The whole body, or one byte past MAX_BODY. A single read() returns only what has arrived so far."""
    body = bytearray()
    while len(body) <= MAX_BODY:
        chunk = await request.content.read(MAX_BODY + 1 - len(body))
        if not chunk:
            break
        body.extend(chunk)
    return bytes(body)


async def verify_url(request: web.Request) -> web.Response:
    crypto = request.app[CALLBACK_CRYPTO]
    try:
        p = _params(request, "msg_signature", "timestamp", "nonce", "echostr")
        echo = crypto.verify_url(
            signature=p["msg_signature"], timestamp=p["timestamp"], nonce=p["nonce"], echostr=p["echostr"]
        )
    except CallbackRejected as exc:
        CALLBACKS.labels("rejected").inc()
        return web.Response(status=exc.status, text=exc.reason)
    # Exactly the decrypted text: no quotes, no BOM, no newline (90238).
    return web.Response(text=echo, content_type="text/plain")


async def receive(request: web.Request) -> web.Response:
    crypto = request.app[CALLBACK_CRYPTO]
    try:
        p = _params(request, "msg_signature", "timestamp", "nonce")
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise CallbackRejected(413, "too large")
        body = await _read_body(request)
        if len(body) > MAX_BODY:
            raise CallbackRejected(413, "too large")
        raw = crypto.decrypt_callback(
            body=body, signature=p["msg_signature"], timestamp=p["timestamp"], nonce=p["nonce"]
        )
        # Checked after the signature: the timestamp is only trustworthy once signed.
        _check_timestamp(p["timestamp"])
        parse_event(raw)  # refuse what could never be handled, before storing it
    except CallbackRejected as exc:
        CALLBACKS.labels("rejected").inc()
        log.warning("callback rejected: %s", exc.reason)
        return web.Response(status=exc.status, text=exc.reason)
    except MalformedEvent as exc:
        CALLBACKS.labels("rejected").inc()
        return web.Response(status=400, text=f"malformed message: {exc}")
    if await store_inbound(raw):
        CALLBACKS.labels("stored").inc()
        request.app[ON_STORED]()  # type: ignore[operator]
    else:
        CALLBACKS.labels("duplicate").inc()
    # An empty 200: received, nothing to reply now; answers go out through the outbox.
    return web.Response(status=200, text="")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/wecom/callback", verify_url, name="wecom_verify")
    app.router.add_post("/wecom/callback", receive, name="wecom_callback")
