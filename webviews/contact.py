"""加客户微信: the salesperson's 「联系我」 QR code for an order (客户联系). The customer scans it with WeChat
and adds the salesperson; Relay then binds them to the order and welcomes them with the order's link."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from infra.runtime import runtime
from models import CallState, Order, Staff
from webviews.auth import api_staff, csrf_token
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
    runtime()  # the way is asked of WeCom after commit (scheduler/contact.py)
    return f"/h5/orders/{order.number}/contact?done=正在生成二维码，稍后刷新本页"


form_page(routes, "/h5/orders/{number}/contact", _contact_page, _contact_action, order_or_404)
