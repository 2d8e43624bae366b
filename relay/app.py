"""The app factory and the background services every Relay process runs."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot import callback
from bot.client import WeComClient
from bot.crypto import CallbackCrypto
from bot.inbox import InboxProcessor
from bot.outbox import OutboxSender
from bot.pacing import open_pacer
from handlers import Dispatcher
from infra.bucket import bucket_origin
from infra.config import Config
from infra.db import db
from infra.errors import UserError
from infra.kv import open_store
from infra.runtime import Runtime, build_runtime
from infra.sms import open_provider
from infra.wakeup import Wakeups, open_wakeups
from relay.db import close_db, open_db
from relay.forwarded import forwarded_middleware
from scheduler.contact import CustomerCalls
from scheduler.jobs import Scheduler
from scheduler.plan import HANDLERS, Planner
from scheduler.webhooks import WebhookSender
from workflow.charts import load_drawing_ahead

log = logging.getLogger(__name__)


def _json_dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


CONFIG = web.AppKey("config", Config)


@dataclass
class Services:
    """The parts of a running Relay: shared by the web app and the worker."""

    runtime: Runtime
    client: WeComClient
    dispatcher: Dispatcher
    inbox: InboxProcessor
    outbox: OutboxSender
    scheduler: Scheduler
    wakeups: Wakeups
    customer_calls: CustomerCalls | None = None  # 客户联系 and SMS calls (scheduler/contact.py)
    webhooks: WebhookSender | None = None  # webhook deliveries (scheduler/webhooks.py)


SERVICES = web.AppKey("services", Services)


@contextlib.asynccontextmanager
async def running_services(config: Config, *, background: bool = True) -> AsyncIterator[Services]:
    """Open the database, the store and the WeCom client; with `background`, run the inbox and outbox loops
    and the jobs, woken by any process on the same database (the wake-ups) and polling as a safety net."""
    await open_db(config.database.url)
    load_drawing_ahead()
    kv = open_store(config.redis.url)
    wakeups = open_wakeups(config.redis.url, config.database.url)
    runtime = build_runtime(config, kv)
    client = WeComClient(
        api_base=config.wecom.api_base,
        corp_id=config.wecom.corp_id,
        secret=config.wecom.secret,
        agent_id=config.wecom.agent_id,
        store=kv,
        timeout=config.wecom.request_timeout,
    )
    leases = config.schedule
    pacer = open_pacer(config.redis.url)
    outbox = OutboxSender(
        client,
        max_attempts=config.wecom.max_attempts,
        max_backoff=config.wecom.max_backoff,
        lease=timedelta(seconds=leases.outbox_lease_seconds),
        poll=leases.poll_seconds,
        pacer=pacer,
    )
    dispatcher = Dispatcher(client)
    webhooks = WebhookSender(
        timeout=config.api.webhook_timeout,
        max_attempts=config.api.webhook_max_attempts,
        max_backoff=config.api.webhook_max_backoff,
        poll=leases.poll_seconds,
    )

    def queued() -> None:
        """What a committed change queued (messages, webhook events) goes out now."""
        outbox.wake()
        webhooks.wake()

    scheduler = Scheduler(
        HANDLERS,
        planner=Planner(),
        after_commit=queued,
        lease=timedelta(seconds=leases.job_lease_seconds),
        poll=leases.job_poll_seconds,
    )

    sms = open_provider(config.sms)
    customer_calls = CustomerCalls(
        client,
        sms,
        after_commit=queued,
        poll=leases.poll_seconds,
        retry=timedelta(seconds=min(30.0, config.wecom.max_backoff)),
        sms_retry=timedelta(seconds=config.sms.retry_seconds),
    )

    def handled() -> None:
        queued()
        scheduler.wake()  # a handler may have added a job for now (本月统计's chart)
        customer_calls.wake()  # a welcome's code lasts 20 s: at once, not behind the outbox

    inbox = InboxProcessor(
        dispatcher.prepare,
        dispatcher.handle,
        dispatcher.on_failure,
        after_commit=handled,
        lease=timedelta(seconds=leases.inbox_lease_seconds),
        retry=timedelta(seconds=leases.inbox_retry_seconds),
        poll=leases.poll_seconds,
    )
    services = Services(runtime, client, dispatcher, inbox, outbox, scheduler, wakeups, customer_calls, webhooks)
    tasks = []
    if background:
        wakeups.on("inbox", inbox.wake)
        wakeups.on("outbox", outbox.wake)
        wakeups.on("outbox", customer_calls.wake)
        wakeups.on("outbox", webhooks.wake)
        wakeups.on("jobs", scheduler.wake)
        await wakeups.start()
        tasks = [
            asyncio.create_task(inbox.run(), name="inbox"),
            asyncio.create_task(outbox.run(), name="outbox"),
            asyncio.create_task(customer_calls.run(), name="customer_calls"),
            asyncio.create_task(webhooks.run(), name="webhooks"),
        ]
        if config.schedule.automatic:
            tasks.append(asyncio.create_task(scheduler.run(), name="scheduler"))
    try:
        yield services
    finally:
        await stop(tasks)
        await wakeups.close()
        await client.close()
        await webhooks.close()
        if sms is not None:
            await sms.close()
        await pacer.close()
        await runtime.files.close()
        await kv.close()
        await close_db()


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the background loops and wait until each has stopped. A cancel can be lost on its way
    (code that turns a cancel landing with its own deadline into a timeout and carries on), and a loop
    that lost it would keep going while shutdown waits for it forever: so cancel again until it stops."""
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=1.0)
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s stopped with an error", task.get_name(), exc_info=task.exception())


# The H5 pages: staff's, the customer's signing page and the customer's own order page.
PAGE_PREFIXES = ("/h5/", "/sign/", "/c/")


@web.middleware
async def error_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except UserError as refused:
        # A refusal no page caught (a bad id, an export out of scope): its message and status, never a 500.
        if request.path.startswith(PAGE_PREFIXES):
            from webviews.render import render

            return render(request, "message.html", title="无法完成", message=refused.message, status=refused.status)
        from webviews.apikit import error

        return error(refused)
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if request.path.startswith(PAGE_PREFIXES):
            from webviews.render import render

            return render(request, "message.html", title="出错了", message="服务器出错了，请稍后再试。", status=500)
        return web.json_response(
            {"error": "internal", "message": "服务器出错了，请稍后再试", "field": None}, status=500, dumps=_json_dumps
        )


def page_headers(frame_ancestors: str, images_from: str = "") -> dict[str, str]:
    """What every H5 page and the customer's page is served with. The pages use their own inline
    scripts and styles and nothing from elsewhere but the bucket's images (`images_from`, where files are
    in one: their links redirect there); no Referer leaves them, since a signing page's URL is the
    customer's key to their order."""
    ancestors = frame_ancestors.strip() or "'none'"
    images = f" {images_from}" if images_from else ""
    csp = (
        f"default-src 'self'; img-src 'self' data: blob:{images}; style-src 'self' 'unsafe-inline'; "
        "script-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        f"frame-ancestors {ancestors}"
    )
    headers = {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
    if not frame_ancestors.strip():
        headers["X-Frame-Options"] = "DENY"  # for browsers that predate frame-ancestors
    return headers


def security_headers(frame_ancestors: str, images_from: str = "") -> Callable[..., Awaitable[web.StreamResponse]]:
    headers = page_headers(frame_ancestors, images_from)

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        page = request.path.startswith(PAGE_PREFIXES)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if page:
                exc.headers.update(headers)
            raise
        if page:
            response.headers.update(headers)
        return response

    return middleware


WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@web.middleware
async def wake_after_writes(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A page or API call that changed something has committed by the time it answers; what it queued (a
    card, a reminder) is picked up now by whichever process is free, not at the next poll. Also after a
    raised answer: a form that succeeded redirects (HTTPFound)."""
    try:
        return await handler(request)
    finally:
        if request.method in WRITES and request.path.startswith((*PAGE_PREFIXES, "/api/")):
            wakeups = request.app[SERVICES].wakeups
            wakeups.notify("outbox")
            wakeups.notify("jobs")


async def healthz(request: web.Request) -> web.Response:
    conn = db()
    await conn.execute_query("SELECT 1")
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def worker_app() -> web.Application:
    """What a `relay worker` answers on `server.worker_port`: its health and its own metrics (the inbox
    and outbox counts are the workers', not the web processes')."""
    app = web.Application()
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/metrics", metrics, name="metrics")
    return app


def init_app(config: Config, *, background: bool | None = None) -> web.Application:
    """The web app. Background work runs in it as `server.background` says, unless `background` is given."""
    # Imported here: webviews pull in templates, which the worker never needs.
    from webviews import add_routes as add_webviews
    from webviews.auth import WECOM_CLIENT

    app = web.Application(
        middlewares=[
            forwarded_middleware(config.server.forwarded_allow_ips),
            security_headers(config.server.frame_ancestors, bucket_origin(config.storage)),
            wake_after_writes,
            error_middleware,
        ],
        client_max_size=config.storage.max_file_bytes + 1024 * 1024,
    )
    app[CONFIG] = config
    app[callback.CALLBACK_CRYPTO] = CallbackCrypto(
        token=config.wecom.token, encoding_aes_key=config.wecom.encoding_aes_key, corp_id=config.wecom.corp_id
    )

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        run_background = config.server.background if background is None else background
        async with running_services(config, background=run_background) as services:
            app[SERVICES] = services
            app[callback.ON_STORED] = functools.partial(services.wakeups.notify, "inbox")
            app[WECOM_CLIENT] = services.client
            yield

    app.cleanup_ctx.append(services_ctx)
    callback.add_routes(app)
    add_webviews(app)
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/metrics", metrics, name="metrics")
    return app
