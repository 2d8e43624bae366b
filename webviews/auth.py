"""Who is looking at an H5 page: WeCom OAuth2 (91022, auth/getuserinfo) then a signed session cookie."""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from aiohttp import web

from bot.client import WeComClient, WeComError, WeComRetryable
from infra.ratelimit import Limit
from infra.runtime import SIGN_IN, runtime
from infra.security import Signer
from models import AuditAction, Staff
from webviews.render import render
from workflow import audit

log = logging.getLogger(__name__)

SESSION_COOKIE = "relay_session"
# The OAuth `state` of the sign-in this browser started: random, checked when WeCom sends it back.
STATE_COOKIE = "relay_oauth_state"
STATE_SECONDS = 600  # WeCom's code itself lasts 5 minutes
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
    query = {k: v for k, v in request.query.items() if k not in ("code", "state", SIGN_IN)}
    return request.path + ("?" + urlencode(query) if query else "")


def _secure() -> bool:
    return runtime().config.server.public_url.startswith("https://")


def start_oauth(request: web.Request) -> web.HTTPFound:
    """Off to WeCom OAuth and back to this page, with a fresh random state that only this browser holds
    (a link someone else started cannot sign this browser in)."""
    state = secrets.token_urlsafe(16)
    links = runtime().links
    response = web.HTTPFound(links.wecom_oauth(links.h5(_clean_url(request)), state))
    response.set_cookie(
        STATE_COOKIE, state, max_age=STATE_SECONDS, path="/h5/", httponly=True, samesite="Lax", secure=_secure()
    )
    return response


def _state_matches(request: web.Request) -> bool:
    expected = request.cookies.get(STATE_COOKIE, "")
    given = request.query.get("state", "")
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


TOO_MANY = "操作太频繁，请一分钟后再试。"


async def over_limit(request: web.Request, bucket: str, who: str) -> web.Response | None:
    """The 429 to answer when `who` has spent this minute's allowance of `bucket`, else None."""
    per_minute = getattr(runtime().config.security, f"{bucket}_per_minute")
    if await runtime().limits.allow(Limit(bucket, per_minute), who):
        return None
    headers = {"Retry-After": "60"}
    if request.path.startswith("/api/"):
        return web.json_response(
            {"error": "rate_limited", "message": TOO_MANY, "field": None}, status=429, headers=headers
        )
    response = render(request, "message.html", title="请稍后再试", message=TOO_MANY, status=429)
    response.headers.update(headers)
    return response


async def _exchange_code(request: web.Request, code: str) -> web.StreamResponse:
    if not _state_matches(request):
        return render(
            request,
            "message.html",
            title="登录请求无效",
            message="这次登录不是从这台设备上发起的，或已超过 10 分钟。请回到企业微信重新打开这个页面。",
            status=400,
        )
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
        secure=_secure(),
    )
    response.del_cookie(STATE_COOKIE, path="/h5/")  # one sign-in per state
    await signed_in(request, userid)
    raise response


async def signed_in(request: web.Request, userid: str) -> None:
    """A sign-in, in the audit log (the userid as WeCom gave it, even if Relay does not know it)."""
    staff = await Staff.get_or_none(userid=userid)
    await audit.record(AuditAction.SIGN_IN, actor=staff, userid=userid, ip=request.remote or "", via="企业微信")


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
        if request.query.get(SIGN_IN) and request.method == "GET":
            raise start_oauth(request)
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
            raise start_oauth(request)
        if not staff.active:
            return render(request, "message.html", title="账号已停用", message="请联系管理员。", status=403)
        request[STAFF] = staff
        return await handler(request)

    return wrapper


def api_staff(request: web.Request) -> Staff:
    return request[STAFF]
