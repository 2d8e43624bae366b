"""加客户微信: the salesperson's 「联系我」 QR code for an order (客户联系). The customer scans it with WeChat
and adds the salesperson; Relay then binds them to the order and welcomes them with the order's link."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from models import CallState, Order, Staff
from webviews.auth import api_staff, csrf_token, h5_page
from webviews.forms import Fields, Files, form_page, order_or_404
from webviews.render import render
from workflow.contact import contact_way_of, request_contact_way
from workflow.customer_reach import contact_for
from workflow.order_lifecycle import ORDER
from workflow.selectors import order_view

routes = web.RouteTableDef()


async def _contact_page(
    request: web.Request, *, error: str | None = None, status: int = 200, **kw: Any
) -> web.Response:
    order = await order_or_404(request)
    staff = api_staff(request)
    way = await contact_way_of(order, staff)
    allowed = await ORDER.may(ORDER["contact_customer"], staff, order)
    contact = await contact_for(order)
    return render(
        request,
        "contact.html",
        status=status,
        order=order,
        view=await order_view(order),
        csrf=csrf_token(staff),
        error=error,
        way=way,
        ready=way is not None and way.call_state == CallState.DONE,
        failed=way is not None and way.call_state == CallState.FAILED,
        allowed=allowed,
        bound=contact is not None,
        done=request.query.get("done", ""),
    )


async def _contact_action(staff: Staff, order: Order, form: Fields, files: Files) -> str:
    await request_contact_way(actor=staff, order=order)
    return f"/h5/orders/{order.number}/contact?done=正在生成二维码，稍后刷新本页"


form_page(routes, "/h5/orders/{number}/contact", _contact_page, _contact_action, order_or_404)

QR_LIMIT = 2 * 1024 * 1024


@routes.get("/h5/orders/{number}/contact-qr")
@h5_page
async def contact_qr(request: web.Request) -> web.Response:
    """The way's QR image, fetched from WeCom's qr_code URL and served from Relay's own origin (the
    pages' Content-Security-Policy allows images from here only). Only for the member whose code it is."""
    order = await order_or_404(request)
    way = await contact_way_of(order, api_staff(request))
    if way is None or way.call_state != CallState.DONE or not way.qr_code.startswith(("https://", "http://")):
        raise web.HTTPNotFound(text="二维码还没有生成")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.get(way.qr_code) as resp:
                data = await resp.content.read(QR_LIMIT + 1)
                kind = resp.content_type
                ok = resp.status == 200 and kind.startswith("image/") and len(data) <= QR_LIMIT
    except (TimeoutError, aiohttp.ClientError):
        ok = False
    if not ok:
        raise web.HTTPBadGateway(text="暂时取不到二维码，请稍后刷新")
    return web.Response(body=data, content_type=kind, headers={"Cache-Control": "private, max-age=300"})
