"""The customer's signing page: no account, only the signed link. Shows the order and the install
photos, takes a handwritten signature once, then stays a read-only receipt."""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

from models import Attachment, AttachmentCategory, Order, OrderItem
from webviews.auth import over_limit
from webviews.files import stored_file
from webviews.forms import to_int
from webviews.render import render
from workflow.errors import Conflict, WorkflowError
from workflow.order_lifecycle import ORDER
from workflow.selectors import item_label
from workflow.signing import LinkProblem, order_for_link, signature_of, submit_signature

routes = web.RouteTableDef()

R = TypeVar("R", bound=web.StreamResponse)
MAX_BODY = 3 * 1024 * 1024


def _problem(request: web.Request, problem: LinkProblem) -> web.Response:
    return render(request, "message.html", title=problem.title, message=problem.message, status=403)


async def _page(request: web.Request, order: Order, *, error: str | None = None, status: int = 200) -> web.Response:
    token = request.match_info["token"]
    photos = await Attachment.filter(
        order_id=order.id, category=AttachmentCategory.INSTALL, removed_at__isnull=True
    ).order_by("id")
    items = await OrderItem.filter(order_id=order.id).order_by("id")
    customer = await order.customer
    signature = await signature_of(order)
    return render(
        request,
        "sign.html",
        status=status,
        order=order,
        token=token,
        photos=photos,
        customer=customer,
        items=[item_label(i) for i in items],
        signature=signature,
        error=error,
        can_sign=signature is None and await ORDER.may(ORDER["sign"], None, order),
    )


def limited(handler: Callable[[web.Request], Awaitable[R]]) -> Callable[[web.Request], Awaitable[R | web.Response]]:
    """A customer's page (signing, their order, a ticket) answers a bounded number of requests a minute
    from one address (security.sign_per_minute, one allowance for them all): the link is the only key,
    so trying links is made slow."""

    @functools.wraps(handler)
    async def wrapper(request: web.Request) -> R | web.Response:
        refused = await over_limit(request, "sign", request.remote or "")
        return refused if refused is not None else await handler(request)

    return wrapper


@routes.get("/sign/{token}")
@limited
async def sign_page(request: web.Request) -> web.Response:
    try:
        order = await order_for_link(request.match_info["token"])
    except LinkProblem as problem:
        return _problem(request, problem)
    return await _page(request, order)


@routes.post("/sign/{token}")
@limited
async def sign_submit(request: web.Request) -> web.Response:
    token = request.match_info["token"]
    try:
        order = await order_for_link(token)
    except LinkProblem as problem:
        return _problem(request, problem)
    if request.content_length is not None and request.content_length > MAX_BODY:
        return await _page(request, order, error="签名图片太大", status=413)
    form = await request.post()
    data_url = str(form.get("signature", ""))
    prefix = "data:image/png;base64,"
    try:
        if not data_url.startswith(prefix):
            raise ValueError
        png = base64.b64decode(data_url[len(prefix) :], validate=True)
    except (ValueError, binascii.Error):
        return await _page(request, order, error="请先在方框内手写签名", status=400)
    try:
        await submit_signature(
            token=token, png=png, ip=request.remote or "", user_agent=request.headers.get("User-Agent", "")
        )
    except LinkProblem as problem:
        return _problem(request, problem)
    except WorkflowError as exc:
        await order.refresh_from_db()
        return await _page(request, order, error=exc.message, status=409 if isinstance(exc, Conflict) else 400)
    raise web.HTTPFound(f"/sign/{token}")


@routes.get("/sign/{token}/files/{id}")
async def sign_file(request: web.Request) -> web.StreamResponse:
    """Install photos and the signature, for whoever holds this order's valid link."""
    try:
        order = await order_for_link(request.match_info["token"])
    except LinkProblem as problem:
        return _problem(request, problem)
    file_id = to_int(request.match_info["id"], -1)
    attachment = await Attachment.get_or_none(
        id=file_id, order_id=order.id, category__in=[AttachmentCategory.INSTALL, AttachmentCategory.SIGNATURE]
    )
    if attachment is None:
        raise web.HTTPNotFound(text="文件不存在")
    return await file_response(request, attachment)


async def file_response(request: web.Request, attachment: Attachment) -> web.StreamResponse:
    """A photo or signature on a customer's page (signing, their order, a ticket): its thumbnail on ?thumb=1."""
    thumb = request.query.get("thumb") == "1" and attachment.has_thumbnail
    return await stored_file(
        attachment.sha256, content_type=attachment.content_type, thumbnail=thumb, cache="private, max-age=3600"
    )
