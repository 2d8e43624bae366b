"""The WeCom server API under /cgi-bin/, same paths and JSON answers as qyapi.weixin.qq.com."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web

from emulator import errors
from emulator.config import EmulatorDepartment, EmulatorUser
from emulator.directory import ROOT
from emulator.errors import WeComError
from emulator.faults import FaultKind
from emulator.keys import state_of
from emulator.media import MAX_SIZE, MIN_SIZE, Media, MediaType

CGI_PREFIX = "/cgi-bin/"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

routes = web.RouteTableDef()

# Faults that replace the answer and leave the request unprocessed.
_FAULT_ANSWERS: dict[FaultKind, int] = {
    FaultKind.TOKEN_EXPIRED: errors.TOKEN_EXPIRED,
    FaultKind.TOKEN_INVALID: errors.INVALID_TOKEN,
    FaultKind.RATE_LIMIT: errors.RATE_LIMITED,
}


def answer_json(data: dict[str, Any]) -> web.Response:
    # WeCom answers UTF-8 text, not \u escapes.
    return web.json_response(data, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


def bad_gateway() -> web.Response:
    return web.Response(status=502, text="502 Bad Gateway", content_type="text/html")


@web.middleware
async def cgi_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Counts calls, turns WeComError into JSON, and plays injected faults."""
    if not request.path.startswith(CGI_PREFIX):
        return await handler(request)
    state = state_of(request)
    api = request.path.removeprefix(CGI_PREFIX)
    state.calls[api] += 1
    fault = state.faults.take(api)
    if fault in _FAULT_ANSWERS:
        return answer_json(WeComError(_FAULT_ANSWERS[fault]).to_json())
    if fault is FaultKind.SERVER_ERROR:
        return bad_gateway()
    try:
        response = await handler(request)
    except WeComError as exc:
        response = answer_json(exc.to_json())
    if fault is FaultKind.DROP_AFTER_PROCESSING:
        return bad_gateway()
    if fault is FaultKind.TIMEOUT:
        # Processed already (a message is delivered); only the answer comes too late.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(state.timeout_seconds):
                await state.held_released.wait()
    return response


def ok(**fields: Any) -> web.Response:
    return answer_json({"errcode": 0, "errmsg": "ok", **fields})


def require_token(request: web.Request) -> None:
    state_of(request).tokens.check(request.query.get("access_token"))


async def read_json(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise WeComError(errors.INVALID_PARAMETER, "Warning: wrong json format.")
    return body


@routes.get("/cgi-bin/gettoken")
async def gettoken(request: web.Request) -> web.Response:
    config = state_of(request).config
    corpid, secret = request.query.get("corpid"), request.query.get("corpsecret")
    if not corpid:
        raise WeComError(errors.MISSING_CORPID)
    if corpid != config.corp_id:
        raise WeComError(errors.INVALID_CORPID)
    if not secret:
        raise WeComError(errors.MISSING_SECRET)
    if secret != config.corp_secret:
        raise WeComError(errors.INVALID_SECRET)
    token, expires_in = state_of(request).tokens.issue()
    return ok(access_token=token, expires_in=expires_in)


@routes.post("/cgi-bin/message/send")
async def message_send(request: web.Request) -> web.Response:
    require_token(request)
    answer = state_of(request).messages.send(await read_json(request))
    return answer_json(answer)


@routes.post("/cgi-bin/message/update_template_card")
async def update_template_card(request: web.Request) -> web.Response:
    require_token(request)
    answer = state_of(request).messages.update_template_card(await read_json(request))
    return answer_json(answer)


@routes.post("/cgi-bin/media/upload")
async def media_upload(request: web.Request) -> web.Response:
    require_token(request)
    try:
        media_type = MediaType(request.query.get("type", ""))
    except ValueError:
        raise WeComError(errors.INVALID_MEDIA_TYPE) from None
    filename, content_type, data = await read_media_part(request, MAX_SIZE[media_type])
    media = state_of(request).media.put(data=data, filename=filename, type=media_type, content_type=content_type)
    return ok(type=media.type.value, media_id=media.media_id, created_at=str(media.created_at))


async def read_media_part(request: web.Request, limit: int) -> tuple[str, str | None, bytes]:
    """The multipart field `media`, read no further than one byte past `limit`."""
    if not request.content_type.startswith("multipart/"):
        raise WeComError(errors.EMPTY_MEDIA, "multipart field media expected")
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader) or part.name != "media":
            continue
        data = bytearray()
        while chunk := await part.read_chunk():
            data.extend(chunk)
            if len(data) > limit:
                raise WeComError(errors.MEDIA_TOO_LARGE, f"limit {limit} bytes")
        if not data:
            raise WeComError(errors.EMPTY_MEDIA)
        if len(data) < MIN_SIZE:
            raise WeComError(errors.INVALID_FILE_SIZE, "media must be larger than 5 bytes")
        # aiohttp and requests percent-encode non-ASCII filenames; browsers send them raw.
        filename = unquote(part.filename or "") or "media"
        return filename, part.headers.get("Content-Type"), bytes(data)
    raise WeComError(errors.EMPTY_MEDIA, "multipart field media missing")


@routes.get("/cgi-bin/media/get")
async def media_get(request: web.Request) -> web.Response:
    require_token(request)
    media_id = request.query.get("media_id")
    if not media_id:
        raise WeComError(errors.MISSING_MEDIA_ID)
    media = state_of(request).media.get(media_id)
    if media is None:
        raise WeComError(errors.INVALID_MEDIA_ID, media_id)
    return media_response(request, media, disposition="attachment")


_RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)$")


def media_response(request: web.Request, media: Media, *, disposition: str) -> web.Response:
    """The bytes with their filename; honours one `Range: bytes=a-b` as WeCom's media/get does."""
    safe_name = re.sub(r'["\\\r\n]', "_", media.filename)
    headers = {
        "Content-Disposition": f'{disposition}; filename="{safe_name}"',
        "Accept-Ranges": "bytes",
    }
    data, status = media.data, 200
    wanted = _RANGE_RE.match(request.headers.get("Range", "").strip())
    if wanted and (wanted.group(1) or wanted.group(2)):
        start, end = _byte_range(wanted.group(1), wanted.group(2), len(data))
        if start >= len(data) or start > end:
            headers["Content-Range"] = f"bytes */{len(data)}"
            return web.Response(status=416, headers=headers)
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        data, status = data[start : end + 1], 206
    return web.Response(body=data, status=status, headers=headers, content_type=media.content_type)


def _byte_range(first: str, last: str, size: int) -> tuple[int, int]:
    if not first:  # "bytes=-N": the last N bytes
        return max(size - int(last), 0), size - 1
    return int(first), min(int(last), size - 1) if last else size - 1


# -- the directory (通讯录) as a self-built app reads it -------------------------------------------------
# Apps created after 2022-06-20 get no mobile, email or avatar (96067 适配建议); user/list has no
# fetch_child since 2022-08 (90200: recurse through the sub-departments); user/list_id answers only the
# contact-sync secret (96067). department/list (90208) and tag/get (90213) as the pages give them.


def member_json(user: EmulatorUser) -> dict[str, Any]:
    return {
        "userid": user.userid,
        "name": user.name,
        "department": list(user.department),
        "order": [0] * len(user.department),
        "position": user.position,
        "main_department": user.department[0],
        "is_leader_in_dept": [0] * len(user.department),
        "direct_leader": [],
        "status": 1,  # 1 active; a member who left is not listed at all
    }


def department_json(dept: EmulatorDepartment) -> dict[str, Any]:
    return {
        "id": dept.id,
        "name": dept.name,
        "name_en": "",
        "department_leader": [],
        "parentid": dept.parentid,
        "order": dept.order,
    }


def department_param(request: web.Request, name: str, *, required: bool) -> int | None:
    raw = request.query.get(name, "")
    if not raw:
        if required:
            raise WeComError(errors.INVALID_PARTY_ID, f"{name} missing")
        return None
    if not raw.isdigit():
        raise WeComError(errors.INVALID_PARTY_ID, raw)
    number = int(raw)
    if number not in state_of(request).directory.departments:
        raise WeComError(errors.DEPARTMENT_NOT_FOUND, raw)
    return number


@routes.get("/cgi-bin/user/get")
async def user_get(request: web.Request) -> web.Response:
    require_token(request)
    userid = request.query.get("userid")
    if not userid:
        raise WeComError(errors.MISSING_USERID)
    user = state_of(request).directory.get(userid)
    if user is None:
        raise WeComError(errors.USER_NOT_FOUND, userid)
    return ok(**member_json(user))


@routes.get("/cgi-bin/user/list")
async def user_list(request: web.Request) -> web.Response:
    require_token(request)
    department = department_param(request, "department_id", required=True)
    assert department is not None
    return ok(userlist=[member_json(u) for u in state_of(request).directory.in_department(department)])


@routes.get("/cgi-bin/user/simplelist")
async def user_simplelist(request: web.Request) -> web.Response:
    require_token(request)
    department = department_param(request, "department_id", required=True)
    assert department is not None
    members = state_of(request).directory.in_department(department)
    return ok(userlist=[{"userid": u.userid, "name": u.name, "department": list(u.department)} for u in members])


@routes.post("/cgi-bin/user/list_id")
async def user_list_id(request: web.Request) -> web.Response:
    require_token(request)
    raise WeComError(errors.API_FORBIDDEN, "user/list_id needs the contact-sync secret")


@routes.get("/cgi-bin/department/list")
async def department_list(request: web.Request) -> web.Response:
    require_token(request)
    directory = state_of(request).directory
    top = department_param(request, "id", required=False)
    found = directory.subtree(top) if top is not None else directory.subtree(ROOT)
    return ok(department=[department_json(d) for d in found])


@routes.get("/cgi-bin/department/simplelist")
async def department_simplelist(request: web.Request) -> web.Response:
    require_token(request)
    directory = state_of(request).directory
    top = department_param(request, "id", required=False)
    found = directory.subtree(top if top is not None else ROOT)
    return ok(department_id=[{"id": d.id, "parentid": d.parentid, "order": d.order} for d in found])


@routes.get("/cgi-bin/department/get")
async def department_get(request: web.Request) -> web.Response:
    require_token(request)
    department = department_param(request, "id", required=True)
    assert department is not None
    return ok(department=department_json(state_of(request).directory.departments[department]))


@routes.get("/cgi-bin/tag/list")
async def tag_list(request: web.Request) -> web.Response:
    require_token(request)
    tags = state_of(request).directory.tags.values()
    return ok(taglist=[{"tagid": t.tagid, "tagname": t.tagname} for t in tags])


@routes.get("/cgi-bin/tag/get")
async def tag_get(request: web.Request) -> web.Response:
    require_token(request)
    directory = state_of(request).directory
    raw = request.query.get("tagid", "")
    tag = directory.tags.get(int(raw)) if raw.isdigit() else None
    if tag is None:
        raise WeComError(errors.INVALID_TAG_ID, raw)
    members = [{"userid": u.userid, "name": u.name} for u in directory.tag_members(tag)]
    return ok(tagname=tag.tagname, userlist=members, partylist=list(tag.parties))


@routes.get("/cgi-bin/auth/getuserinfo")
async def getuserinfo(request: web.Request) -> web.Response:
    require_token(request)
    code = request.query.get("code")
    if not code:
        raise WeComError(errors.MISSING_OAUTH_CODE)
    userid = state_of(request).oauth_codes.consume(code)
    if userid is None:
        raise WeComError(errors.INVALID_OAUTH_CODE)
    # snsapi_base: the member's userid only, no user_ticket.
    return ok(userid=userid)


# -- customer contact (客户联系) ------------------------------------------------------------------


@routes.post("/cgi-bin/externalcontact/add_contact_way")
async def add_contact_way(request: web.Request) -> web.Response:
    require_token(request)
    state = state_of(request)
    return ok(**state.contact.add_contact_way(await read_json(request), state.base_url))


@routes.post("/cgi-bin/externalcontact/send_welcome_msg")
async def send_welcome_msg(request: web.Request) -> web.Response:
    require_token(request)
    state_of(request).contact.send_welcome_msg(await read_json(request))
    return ok()


@routes.post("/cgi-bin/externalcontact/add_msg_template")
async def add_msg_template(request: web.Request) -> web.Response:
    require_token(request)
    return ok(**state_of(request).contact.add_msg_template(await read_json(request)))


@routes.post("/cgi-bin/externalcontact/get_groupmsg_send_result")
async def get_groupmsg_send_result(request: web.Request) -> web.Response:
    require_token(request)
    return ok(**state_of(request).contact.get_groupmsg_send_result(await read_json(request)))
