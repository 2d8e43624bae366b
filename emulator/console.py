"""The web console: its page, and the JSON API it (and tests) use to look and to act as members."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from emulator.api import department_json, media_response
from emulator.callback import CallbackResult
from emulator.config import EmulatorDepartment, EmulatorUser
from emulator.directory import DirectoryError
from emulator.faults import FaultKind
from emulator.keys import state_of
from emulator.state import ClickError, EmulatorState

STATIC_DIR = Path(__file__).parent / "static"
MAX_PHOTO = 10 * 1024 * 1024

# Server-sent events keep a line open; a comment line now and then tells a dropped one from a quiet one.
HEARTBEAT_SECONDS = 15.0
# Set when the app shuts down: open event streams end at once instead of holding the shutdown.
CLOSING = web.AppKey("console_closing", asyncio.Event)

routes = web.RouteTableDef()


async def closing_ctx(app: web.Application) -> AsyncIterator[None]:
    app[CLOSING] = asyncio.Event()
    yield


async def on_shutdown(app: web.Application) -> None:
    app[CLOSING].set()


def fail(status: int, message: str) -> web.HTTPException:
    cls = {400: web.HTTPBadRequest, 404: web.HTTPNotFound, 409: web.HTTPConflict}[status]
    return cls(text=json.dumps({"ok": False, "error": message}, ensure_ascii=False), content_type="application/json")


def delivered(result: CallbackResult) -> web.Response:
    return web.json_response(result.to_json())


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise fail(400, "body must be JSON") from None
    if not isinstance(body, dict):
        raise fail(400, "body must be a JSON object")
    return body


def int_param(request: web.Request, name: str) -> int:
    try:
        return int(request.query.get(name) or 0)
    except ValueError:
        raise fail(400, f"{name} must be an integer") from None


def member(state: EmulatorState, userid: Any) -> str:
    user = state.directory.get(str(userid or ""))
    if user is None:
        raise fail(404, f"no member {userid!r}")
    return user.userid


@routes.get("/")
async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


@routes.get("/emulator/api/users")
async def users(request: web.Request) -> web.Response:
    state = state_of(request)
    return web.json_response(
        {
            "agent_name": state.config.agent_name,
            "users": [
                {"userid": u.userid, "name": u.name, "department": list(u.department), "position": u.position}
                for u in state.directory.all()
            ],
        }
    )


@routes.get("/emulator/api/chat")
async def chat(request: web.Request) -> web.Response:
    """Entries created or changed after revision `after`; `rev` is the revision to ask after next."""
    state = state_of(request)
    userid = member(state, request.query.get("userid"))
    after = int_param(request, "after")
    entries = [with_media(state, e.to_json()) for e in state.chat(userid, after)]
    return web.json_response({"rev": state.chats.revision, "entries": entries})


@routes.get("/emulator/api/chat/stream")
async def chat_stream(request: web.Request) -> web.StreamResponse:
    """The member's chat as server-sent events: an event `chat` ({rev, entries}, as /emulator/api/chat
    answers) for every entry created or changed after revision `after`, or after the Last-Event-ID a
    reconnecting browser sends; `reset` when that revision is ahead of ours (the emulator restarted)."""
    state = state_of(request)
    userid = member(state, request.query.get("userid"))
    after = int_param(request, "after")
    resumed = request.headers.get("Last-Event-ID", "")
    if resumed.isdigit():
        after = max(after, int(resumed))
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    await response.write(b"retry: 1000\n\n")
    if after > state.chats.revision:
        after = 0
        await response.write(b"event: reset\ndata: {}\n\n")
    closing: asyncio.Future[Any] = asyncio.ensure_future(request.app[CLOSING].wait())
    try:
        while not closing.done():
            changed: asyncio.Future[Any] = state.chats.watch()
            entries = [with_media(state, e.to_json()) for e in state.chat(userid, after)]
            rev = state.chats.revision
            if entries:
                data = json.dumps({"rev": rev, "entries": entries}, ensure_ascii=False)
                await response.write(f"id: {rev}\nevent: chat\ndata: {data}\n\n".encode())
            after = rev
            done, _ = await asyncio.wait(
                {changed, closing}, timeout=HEARTBEAT_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                changed.cancel()
                await response.write(b": still here\n\n")
    except ConnectionResetError:
        pass  # the browser went away, or chose another member
    finally:
        closing.cancel()
    return response


def with_media(state: EmulatorState, entry: dict[str, Any]) -> dict[str, Any]:
    """File bubbles show a name and size, which the message JSON only knows as a media_id."""
    content = entry["payload"].get(entry["msgtype"])
    media_id = content.get("media_id") if isinstance(content, dict) else None
    media = state.media.get(str(media_id)) if media_id else None
    if media is not None:
        entry["media"] = {
            "filename": media.filename,
            "content_type": media.content_type,
            "size": len(media.data),
        }
    return entry


@routes.post("/emulator/api/send")
async def send(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await json_body(request)
    text = str(body.get("text") or "")
    if not text.strip():
        raise fail(400, "text is empty")
    return delivered(await state.user_sends_text(member(state, body.get("userid")), text))


@routes.post("/emulator/api/image")
async def image(request: web.Request) -> web.Response:
    state = state_of(request)
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise fail(400, "multipart field file is required")
    data = upload.file.read(MAX_PHOTO + 1)
    if len(data) > MAX_PHOTO:
        raise fail(400, "photo larger than 10 MB")
    userid = member(state, form.get("userid"))
    filename = unquote(upload.filename or "") or "photo.jpg"
    return delivered(await state.user_sends_image(userid, data, filename))


@routes.post("/emulator/api/click")
async def click(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await json_body(request)
    selected = body.get("selected")
    if selected is not None and not isinstance(selected, dict):
        raise fail(400, "selected maps question_key to a list of option ids")
    userid = member(state, body.get("userid"))
    try:
        result = await state.user_clicks(userid, str(body.get("msgid", "")), str(body.get("key", "")), selected)
    except ClickError as exc:
        raise fail(409, str(exc)) from None
    return delivered(result)


@routes.post("/emulator/api/enter")
async def enter(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await json_body(request)
    return delivered(await state.user_enters_agent(member(state, body.get("userid"))))


@routes.get("/emulator/api/callbacks")
async def callbacks(request: web.Request) -> web.Response:
    state = state_of(request)
    after = int_param(request, "after")
    records = [c.to_json() for c in state.callbacks if c.seq > after]
    return web.json_response({"last": len(state.callbacks), "callbacks": records})


@routes.get("/emulator/api/faults")
async def faults(request: web.Request) -> web.Response:
    state = state_of(request)
    return web.json_response({"pending": state.faults.pending(), "calls": dict(state.calls)})


@routes.post("/emulator/api/faults")
async def inject_fault(request: web.Request) -> web.Response:
    """{api, kind, count?} adds a fault; {"clear": true} drops every pending one."""
    state = state_of(request)
    body = await json_body(request)
    if body.get("clear"):
        state.clear_faults()
    else:
        try:
            state.inject(str(body.get("api", "")), str(body.get("kind", "")), int(body.get("count", 1)))
        except ValueError as exc:
            raise fail(400, f"bad fault: {exc}; kinds: {', '.join(k.value for k in FaultKind)}") from None
    return web.json_response({"ok": True, "pending": state.faults.pending()})


@routes.post("/emulator/api/tokens/expire")
async def expire_tokens(request: web.Request) -> web.Response:
    state_of(request).expire_tokens()
    return web.json_response({"ok": True})


@routes.post("/emulator/api/verify")
async def verify(request: web.Request) -> web.Response:
    return web.json_response({"ok": await state_of(request).verify_url()})


@routes.get("/emulator/media/{media_id}")
async def public_media(request: web.Request) -> web.Response:
    """PicUrl of members' images and the console's thumbnails: no token, like WeCom's CDN links."""
    media = state_of(request).media.get(request.match_info["media_id"])
    if media is None:
        raise web.HTTPNotFound()
    disposition = "attachment" if "download" in request.query else "inline"
    return media_response(request, media, disposition=disposition)


# -- customer contact (客户联系): customers adding members, mass-send tasks, what customers received ----


@routes.get("/emulator/api/contact/ways")
async def contact_ways(request: web.Request) -> web.Response:
    """Every 「联系我」 way Relay made, newest first: a customer in the console "scans" one of them."""
    state = state_of(request)
    ways = sorted(state.contact.ways.values(), key=lambda w: w.created, reverse=True)
    names = {u.userid: u.name for u in state.directory.all()}
    return web.json_response(
        {
            "ways": [
                {"config_id": w.config_id, "user": w.user, "name": names.get(w.user, w.user), "state": w.state}
                | {"qr_code": w.qr_code}
                for w in ways
            ]
        }
    )


@routes.post("/emulator/api/contact/add")
async def contact_add(request: web.Request) -> web.Response:
    """{config_id, name?}: a customer scans that way's QR code and adds its member."""
    state = state_of(request)
    body = await json_body(request)
    name = str(body.get("name") or "微信用户")[:32]
    try:
        added, result = await state.customer_adds(str(body.get("config_id", "")), name)
    except KeyError as exc:
        raise fail(404, str(exc)) from None
    return web.json_response({"external_userid": added.external_userid, **result.to_json()})


@routes.get("/emulator/api/contact/member")
async def contact_member(request: web.Request) -> web.Response:
    """A member's side: their mass-send tasks (pending ones to confirm) and each of their customers with
    what the customer received."""
    state = state_of(request)
    userid = member(state, request.query.get("userid"))
    customers = [
        {
            "external_userid": c.external_userid,
            "name": c.name,
            "this_month": state.contact.mass_received_this_month(c.external_userid),
            "received": [r.to_json() for r in state.customer_received(c.external_userid)],
        }
        for c in state.contact.customers_of(userid)
    ]
    tasks = [t.to_json() for t in state.contact.tasks_of(userid)]
    return web.json_response({"limit": state.contact.per_month, "tasks": tasks, "customers": customers})


@routes.post("/emulator/api/contact/confirm")
async def contact_confirm(request: web.Request) -> web.Response:
    """{userid, msgid}: the member sends a pending mass-send task."""
    state = state_of(request)
    body = await json_body(request)
    userid = member(state, body.get("userid"))
    try:
        task = state.member_confirms_mass_send(userid, str(body.get("msgid", "")))
    except KeyError as exc:
        raise fail(404, str(exc)) from None
    except ValueError as exc:
        raise fail(409, str(exc)) from None
    return web.json_response(task.to_json())


@routes.get("/emulator/contact-way/{config_id}/qr.png")
async def contact_way_qr(request: web.Request) -> web.Response:
    """The way's QR code, as WeCom's qr_code URL serves one (no token)."""
    state = state_of(request)
    way = state.contact.ways.get(request.match_info["config_id"])
    if way is None:
        raise web.HTTPNotFound()
    png = await asyncio.to_thread(_qr_png, f"{state.base_url}/emulator/contact-way/{way.config_id}")
    return web.Response(body=png, content_type="image/png")


def _qr_png(text: str) -> bytes:
    import io

    import qrcode

    out = io.BytesIO()
    qrcode.make(text).save(out)
    return out.getvalue()


# -- the directory (通讯录): changing it as WeCom's admin console would, each change an event to Relay ------


@routes.get("/emulator/api/directory")
async def directory(request: web.Request) -> web.Response:
    state = state_of(request)
    return web.json_response(
        {
            "departments": [department_json(d) for d in state.directory.departments.values()],
            "tags": [
                {"tagid": t.tagid, "tagname": t.tagname, "users": list(t.users), "parties": list(t.parties)}
                for t in state.directory.tags.values()
            ],
        }
    )


def _departments(raw: Any) -> list[int] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(d, int) for d in raw):
        raise fail(400, "department must be a list of ids")
    return raw


def _changed(result: CallbackResult | None) -> web.Response:
    return web.json_response(result.to_json() if result is not None else {"ok": True, "event": None})


@routes.post("/emulator/api/directory/member")
async def directory_member(request: web.Request) -> web.Response:
    """{action: join | change | leave, userid, name?, department?: [ids], notify?}: a member joins, changes
    or leaves; with notify (the default) WeCom sends Relay the change_contact event."""
    state = state_of(request)
    body = await json_body(request)
    userid, action, notify = str(body.get("userid") or ""), body.get("action"), body.get("notify", True) is not False
    departments = _departments(body.get("department"))
    try:
        if action == "join":
            user = EmulatorUser(userid=userid, name=str(body.get("name") or userid), department=departments or [1])
            return _changed(await state.member_joins(user, notify=notify))
        if action == "change":
            name = str(body["name"]) if body.get("name") else None
            return _changed(await state.member_changes(userid, name=name, department=departments, notify=notify))
        if action == "leave":
            return _changed(await state.member_leaves(userid, notify=notify))
    except DirectoryError as exc:
        raise fail(400, str(exc)) from None
    raise fail(400, "action must be join, change or leave")


@routes.post("/emulator/api/directory/department")
async def directory_department(request: web.Request) -> web.Response:
    """{action: create | change | delete, id, name?, parentid?, notify?}."""
    state = state_of(request)
    body = await json_body(request)
    action, notify = body.get("action"), body.get("notify", True) is not False
    try:
        dept_id = int(body.get("id") or 0)
        parentid = int(body["parentid"]) if body.get("parentid") is not None else None
        if action == "create":
            dept = EmulatorDepartment(dept_id, str(body.get("name") or dept_id), parentid or 1)
            return _changed(await state.department_created(dept, notify=notify))
        if action == "change":
            name = str(body["name"]) if body.get("name") else None
            return _changed(await state.department_changes(dept_id, name=name, parentid=parentid, notify=notify))
        if action == "delete":
            return _changed(await state.department_deleted(dept_id, notify=notify))
    except (DirectoryError, ValueError, TypeError) as exc:
        raise fail(400, str(exc)) from None
    raise fail(400, "action must be create, change or delete")
