"""News on H5 (公告): the archive (what was addressed to the member; what they posted), an item's page (which
records the read) and its file, the form admins and managers post with, and the author's receipts (who has
read it, who has not) with 撤回."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from infra.runtime import runtime
from infra.storage import RejectedFile
from models import News, NewsKind, Role, Staff
from webviews.auth import api_staff, check_csrf, csrf_token, h5_page
from webviews.files import stored_file
from webviews.forms import Fields, Files, form_page, no_subject, one, read_form, to_int
from webviews.render import render
from workflow.errors import Invalid, WorkflowError
from workflow.news import (
    MAX_BODY,
    MAX_TITLE,
    NewsInput,
    audience_text,
    check_news,
    mark_read,
    may_manage,
    may_post,
    news_for,
    post_news,
    posted,
    receipts,
    received,
    units_for,
    withdraw_news,
)

routes = web.RouteTableDef()

DONE = {"posted": "公告已发布，正在逐一送达。", "withdrawn": "公告已撤回。"}
SECURE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def _refused(request: web.Request, refused: WorkflowError) -> web.Response:
    title = "公告已撤回" if refused.status == 410 else "无法查看"
    return render(request, "message.html", title=title, message=refused.message, status=refused.status)


async def _news_or_refusal(request: web.Request) -> News | web.Response:
    try:
        return await news_for(api_staff(request), to_int(request.match_info["id"], -1))
    except WorkflowError as refused:
        return _refused(request, refused)


@routes.get("/h5/news")
@h5_page
async def archive(request: web.Request) -> web.Response:
    staff = api_staff(request)
    kind = NewsKind.parse(request.query.get("kind", ""))
    return render(
        request,
        "news_list.html",
        received=await received(staff, kind=kind),
        posted=await posted(staff, kind=kind),
        kinds=list(NewsKind),
        kind=kind,
        can_post=may_post(staff),
    )


# The form (before the item's own routes: "new" is not an id)


async def _new_page(
    request: web.Request,
    *,
    error: str | None = None,
    status: int = 200,
    errors: dict[str, str] | None = None,
    form: Fields | None = None,
    **_: Any,
) -> web.Response:
    staff = api_staff(request)
    if not may_post(staff):
        return render(
            request, "message.html", title="不能发布公告", message="只有管理员或管理层可以发布公告", status=403
        )
    units = await units_for(staff)
    top = min(u.path.count("/") for u in units) if units else 0
    return render(
        request,
        "news_new.html",
        status=status,
        csrf=csrf_token(staff),
        kinds=list(NewsKind),
        roles=list(Role),
        units=[(u, u.path.count("/") - top) for u in units],
        error=error,
        errors=errors or {},
        form=form or {},
        max_title=MAX_TITLE,
        max_body=MAX_BODY,
    )


def _news_input(form: Fields) -> NewsInput:
    return NewsInput(
        title=one(form, "title"),
        body=(form.get("body") or [""])[0].strip(),
        kind=one(form, "kind"),
        roles=[r for r in form.get("roles", []) if r],
        unit_ids=[to_int(u, -1) for u in form.get("units", []) if u],
    )


async def _new_action(staff: Staff, _: None, form: Fields, files: Files) -> str:
    news_input = _news_input(form)
    upload = next(((name, data) for field, name, data in files if field == "file"), None)
    # Checked before the file is stored: a refused post leaves no file behind.
    await check_news(staff, news_input, has_file=upload is not None)
    stored, file_name = None, ""
    if upload is not None:
        file_name, data = upload
        try:
            stored = await runtime().files.put_publication(data)
        except RejectedFile as exc:
            raise Invalid(exc.message, "file") from None
    news = await post_news(author=staff, form=news_input, file=stored, file_name=file_name)
    return f"/h5/news/{news.id}/receipts?done=posted"


form_page(routes, "/h5/news/new", _new_page, _new_action, no_subject)


@routes.get("/h5/news/{id:\\d+}")
@h5_page
async def news_page(request: web.Request) -> web.Response:
    staff = api_staff(request)
    news = await _news_or_refusal(request)
    if isinstance(news, web.Response):
        return news
    await mark_read(staff, news)
    await news.fetch_related("author")
    return render(
        request,
        "news.html",
        news=news,
        manages=may_manage(staff, news),
        audience=await audience_text(news),
    )


@routes.get("/h5/news/{id:\\d+}/file")
@h5_page
async def news_file(request: web.Request) -> web.StreamResponse:
    """The attached file, for the audience only (a price list is not for everyone), as the type it was
    judged to be when stored."""
    news = await _news_or_refusal(request)
    if isinstance(news, web.Response):
        return news
    if not news.file_sha256:
        return render(request, "message.html", title="无法查看", message="这条公告没有附件", status=404)
    return await stored_file(
        news.file_sha256, content_type=news.file_type, cache="private, no-store", download_name=news.file_name or "file"
    )


@routes.get("/h5/news/{id:\\d+}/receipts")
@h5_page
async def receipts_page(request: web.Request) -> web.Response:
    staff = api_staff(request)
    news = await _news_or_refusal(request)
    if isinstance(news, web.Response):
        return news
    try:
        seen = await receipts(staff, news)
    except WorkflowError as refused:
        return _refused(request, refused)
    return render(
        request,
        "news_receipts.html",
        news=news,
        receipts=seen,
        audience=await audience_text(news),
        csrf=csrf_token(staff),
        notice=DONE.get(request.query.get("done", "")),
    )


@routes.post("/h5/news/{id:\\d+}/withdraw")
@h5_page
async def withdraw(request: web.Request) -> web.Response:
    staff = api_staff(request)
    news = await _news_or_refusal(request)
    if isinstance(news, web.Response):
        return news
    fields, _ = await read_form(request)
    check_csrf(request, staff, one(fields, "csrf"))
    try:
        await withdraw_news(actor=staff, news=news, ip=request.remote or "")
    except WorkflowError as refused:
        return _refused(request, refused)
    raise web.HTTPFound(f"/h5/news/{news.id}/receipts?done=withdrawn")
