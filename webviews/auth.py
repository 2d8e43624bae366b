"""Who is looking at an H5 page: WeCom OAuth2 (91022, auth/getuserinfo) then a signed session cookie."""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from aiohttp import web

from bot.client import WeComClient, WeComError, WeComRetryable
from infra.ratelimit import Limit
from infra.runtime import runtime
from infra.security import Signer
from models import Staff
from webviews.render import render

log = logging.getLogger(__name__)

SESSION_COOKIE = "relay_session"
STAFF = web.RequestKey("staff", Staff)
# Set by the app factory from the running services: the pages read it here and never import the wiring.
WECOM_CLIENT = web.AppKey("wecom_client", WeComClient)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _signer(salt: str) -> Signer:
    return Signer(runtime().config.security.secret_key, salt)


def _max_age() -> int:
    return runtime().config.security.session_hours * 3600


def csrf_token(staff: Staff) -> str:
    return _signer("csrf").dumps(staff.userid)


def check_csrf(request: web.Request, staff: Staff, token: str | None) -> None:
    value = _signer("csrf").loads(token or "", _max_age())
    if not isinstance(value, str) or not hmac.compare_digest(value, staff.userid):
        raise web.HTTPForbidden(text="页面已过期，请返回重新打开后再提交。")


def _clean_url(request: web.Request) -> str:
    query = {k: v for k, v in request.query.items() if k not in ("code", "state")}
    return request.path + ("?" + urlencode(query) if query else "")


TOO_MANY = "操作太频繁，请一分钟后再试。"


async def over_limit(request: web.Request, bucket: str, who: str) -> web.Response | None:
    """The 429 to answer when `who` has spent this minute's allowance of `bucket`, else None."""
    per_minute = getattr(runtime().config.security, f"{bucket}_per_minute")
    if await runtime().limits.allow(Limit(bucket, per_minute), who):
        return None
    headers = {"Retry-After": "60"}
    if request.path.startswith("/api/"):
        return web.json_response({"error": TOO_MANY}, status=429, headers=headers)
    response = render(request, "message.html", title="请稍后再试", message=TOO_MANY, status=429)
    response.headers.update(headers)
    return response


async def _exchange_code(request: web.Request, code: str) -> web.StreamResponse:
    # Each code costs a call on the company's WeCom quota: an address sending many is refused first.
    refused = await over_limit(request, "oauth", request.remote or "")
    if refused is not None:
        return refused
    client = request.app[WECOM_CLIENT]
    try:
        userid = await client.get_user_by_code(code)
    except WeComError as exc:
        log.info("oauth code refused: %s", exc)
        return render(
            request, "message.html", title="登录已过期", message="请回到企业微信重新打开这个页面。", status=401
        )
    except WeComRetryable:
        return render(request, "message.html", title="企业微信暂时无法连接", message="请稍后重试。", status=503)
    response = web.HTTPFound(_clean_url(request))  # raised below, with the session cookie
    response.set_cookie(
        SESSION_COOKIE,
        session_value(userid),
        max_age=_max_age(),
        httponly=True,
        samesite="Lax",
        secure=runtime().config.server.public_url.startswith("https://"),
    )
    raise response


def session_value(userid: str) -> str:
    """The session cookie's value for a member who came through OAuth."""
    return _signer("session").dumps(userid)


async def session_staff(request: web.Request) -> Staff | None:
    userid = _signer("session").loads(request.cookies.get(SESSION_COOKIE, ""), _max_age())
    if not isinstance(userid, str):
        return None
    return await Staff.get_or_none(userid=userid)


def h5_page(handler: Handler) -> Handler:
    """An H5 page for staff: knows who is looking or sends them through WeCom OAuth first."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> web.StreamResponse:
        code = request.query.get("code")
        if code and request.method == "GET":
            return await _exchange_code(request, code)
        staff = await session_staff(request)
        if staff is None:
            if request.method != "GET" or request.path.startswith("/api/"):
                return render(
                    request,
                    "message.html",
                    title="请重新打开",
                    message="登录已过期，请从企业微信重新打开。",
                    status=401,
                )
            raise web.HTTPFound(runtime().links.oauth(_clean_url(request)))
        if not staff.active:
            return render(request, "message.html", title="账号已停用", message="请联系管理员。", status=403)
        request[STAFF] = staff
        return await handler(request)

    return wrapper


def api_staff(request: web.Request) -> Staff:
    return request[STAFF]
