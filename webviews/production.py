"""The factory's production page: pieces by order and state, tick many (or scan them) and move each to
its next step in one tap. The steps are the piece lifecycle's (workflow/piece_lifecycle.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from infra.timeutil import local_today
from models import Staff
from webviews.auth import api_staff, csrf_token
from webviews.forms import Fields, Files, form_page, no_subject
from webviews.render import render
from workflow.dealer_lifecycle import DEALER_PIECE
from workflow.dealer_pieces import waiting_dealer_orders
from workflow.errors import Invalid, NotAllowed
from workflow.piece_lifecycle import PIECE
from workflow.production import NUMBER_RE, move_pieces, waiting_orders

routes = web.RouteTableDef()
FACTORY_STEPS = PIECE.roles_of("start", "finish", "ship")


def _require_factory(staff: Staff) -> None:
    if not any(staff.has_role(r) for r in FACTORY_STEPS):
        raise NotAllowed("只有工厂可以查看生产进度")


async def _page(request: web.Request, *, status: int = 200, error: str | None = None, **_: Any) -> web.Response:
    staff = api_staff(request)
    try:
        _require_factory(staff)
    except NotAllowed as refused:
        return render(request, "message.html", status=403, title="没有权限", message=refused.message)
    only = request.query.get("order") or None
    orders = await waiting_orders(limit=100, order_number=only)
    dealer_orders = await waiting_dealer_orders(limit=100, factory_number=only)
    return render(
        request,
        "production.html",
        status=status,
        orders=orders,
        dealer_orders=dealer_orders,
        only=only,
        csrf=csrf_token(staff),
        error=error,
        notice=request.query.get("done"),
        today=local_today(),
        next_step=lambda piece: PIECE.next_step(piece, staff),
        dealer_next_step=lambda piece: DEALER_PIECE.next_step(piece, staff),
    )


async def _move(staff: Staff, _: None, form: Fields, files: Files) -> str:
    _require_factory(staff)
    # A ticked box says the piece and the step the page showed for it ("number@step").
    ticked = dict(value.partition("@")[::2] for value in form.get("number", []))
    numbers = [m.group(0) for typed in form.get("scanned", []) for m in NUMBER_RE.finditer(typed)]
    if not numbers and not ticked:
        raise Invalid("请先勾选或扫码要推进的产品", "number")
    results = await move_pieces(actor=staff, numbers=numbers, steps=ticked)
    refused = [f"{r.number}：{r.text}" for r in results if not r.ok]
    if refused and len(refused) == len(results):
        raise Invalid("；".join(refused), "number")
    done = f"已推进 {len(results) - len(refused)} 件" + (f"；未推进：{'；'.join(refused)}" if refused else "")
    return "/h5/production?" + urlencode({"done": done})


form_page(routes, "/h5/production", _page, _move, no_subject)
