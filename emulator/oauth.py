"""OAuth2 for H5 pages (open.weixin.qq.com/connect/oauth2/authorize) and the console's "open as member"."""

from __future__ import annotations

import html

from aiohttp import web
from yarl import URL

from emulator.keys import state_of

USER_COOKIE = "emu_user"
OAUTH_HOST = "open.weixin.qq.com"
OAUTH_PATH = "/connect/oauth2/authorize"

routes = web.RouteTableDef()


def notice_page(title: str, text: str, status: int = 200) -> web.Response:
    body = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
 body{{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f5f6f7;color:#333;
      display:flex;align-items:center;justify-content:center;min-height:90vh;margin:0}}
 .box{{background:#fff;border-radius:12px;padding:32px 28px;text-align:center;max-width:320px;
       box-shadow:0 2px 12px rgba(0,0,0,.06)}}
 h1{{font-size:18px;margin:0 0 12px}} p{{font-size:14px;color:#888;margin:0;line-height:1.6}}
</style></head>
<body><div class="box"><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></div></body></html>"""
    return web.Response(text=body, status=status, content_type="text/html")


def current_userid(request: web.Request) -> str | None:
    userid = request.cookies.get(USER_COOKIE)
    if not userid:
        return None
    user = state_of(request).directory.get(userid)
    return user.userid if user else None


@routes.get(OAUTH_PATH)
async def authorize(request: web.Request) -> web.StreamResponse:
    config = state_of(request).config
    query = request.query
    if query.get("appid") != config.corp_id:
        return notice_page("参数错误", "appid 与企业 CorpID 不一致。", status=400)
    if query.get("response_type") != "code":
        return notice_page("参数错误", "response_type 必须为 code。", status=400)
    agentid = query.get("agentid")
    if agentid and agentid != str(config.agent_id):
        return notice_page("参数错误", "agentid 不是本应用。", status=400)
    redirect_uri = query.get("redirect_uri", "")
    target = URL(redirect_uri)
    if target.scheme not in ("http", "https") or not target.host:
        return notice_page("参数错误", "redirect_uri 不是有效的网址。", status=400)
    userid = current_userid(request)
    if userid is None:
        return notice_page("未登录", "请先在控制台选择成员")
    code = state_of(request).oauth_codes.issue(userid)
    extra = {"code": code}
    if "state" in query:
        extra["state"] = query["state"]
    raise web.HTTPFound(target.update_query(extra))


def local_oauth_url(request: web.Request, url: URL) -> URL:
    """A link to the real OAuth host is served here instead, so demo links work unchanged."""
    if url.host == OAUTH_HOST and url.path == OAUTH_PATH:
        return request.url.origin().with_path(OAUTH_PATH).with_query(url.query)
    return url


@routes.get("/emulator/open")
async def open_as_member(request: web.Request) -> web.StreamResponse:
    """Log the console's member in (cookie emu_user) and go to the link, as tapping it in WeCom would."""
    user = state_of(request).directory.get(request.query.get("userid", ""))
    if user is None:
        return notice_page("成员不存在", "请先在控制台选择成员", status=404)
    url = URL(request.query.get("url", ""))
    if url.is_absolute() and url.scheme not in ("http", "https"):
        return notice_page("无法打开", "只能打开 http(s) 链接。", status=400)
    if not url.is_absolute() and not url.path.startswith("/"):
        return notice_page("无法打开", "链接无效。", status=400)
    response = web.HTTPFound(local_oauth_url(request, url) if url.is_absolute() else url)
    response.set_cookie(USER_COOKIE, user.userid, path="/", samesite="Lax")
    raise response
