"""Stock (库存) pages: the levels (search, per warehouse, below safety highlighted), a product's moves
with who, when and why, and the forms to receive (入库 / 退货入库), count (盘点) and set a safety level.
Who may do what is workflow/stock.py RULES; the pages only show what it allows."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from models import Staff, StockMoveKind
from webviews.auth import api_staff, csrf_token, h5_page
from webviews.forms import Fields, Files, Page, form_page, one, to_int
from webviews.render import render
from workflow import stock
from workflow.errors import Invalid
from workflow.stock import Line

routes = web.RouteTableDef()


@routes.get("/h5/stock")
@h5_page
async def stock_list(request: web.Request) -> web.Response:
    staff = api_staff(request)
    warehouses = await stock.warehouses_for(staff)  # NotAllowed: the error middleware answers 403
    query = request.query.get("q", "").strip()[:64]
    warehouse_id = to_int(request.query.get("warehouse", ""), 0) or None
    below = request.query.get("below") == "1"
    lines = await stock.levels(staff, query=query, warehouse_id=warehouse_id, below_only=below)
    return render(
        request,
        "stock.html",
        lines=lines,
        warehouses=warehouses,
        query=query,
        warehouse_id=warehouse_id,
        below=below,
        may_receive=stock.may(staff, StockMoveKind.RECEIVED),
        may_count=stock.may(staff, StockMoveKind.COUNTED),
        notice=request.query.get("done", "")[:80],
    )


# A product's levels and moves; purchasing sets its safety level here.


async def _product_page(
    request: web.Request,
    *,
    error: str | None = None,
    errors: dict[str, str] | None = None,
    form: Fields | None = None,
    status: int = 200,
    **_: Any,
) -> web.Response:
    staff = api_staff(request)
    product, moves = await stock.product_moves(staff, to_int(request.match_info["id"], -1))
    lines = [line for line in await stock.levels(staff) if line.product_id == product.id]
    return render(
        request,
        "stock_product.html",
        status=status,
        product=product,
        lines=lines,
        moves=moves,
        warehouses=await stock.warehouses_for(staff),
        may_safety=stock.may(staff, "safety"),
        may_count=stock.may(staff, StockMoveKind.COUNTED),
        csrf=csrf_token(staff),
        error=error,
        errors=errors or {},
        form=form or {},
        notice=request.query.get("done", "")[:80],
    )


async def _product_id(request: web.Request) -> int:
    return to_int(request.match_info["id"], -1)


async def _set_safety(staff: Staff, product_id: int, form: Fields, files: Files) -> str:
    level = await stock.set_safety_level(
        actor=staff,
        warehouse_id=_warehouse_id(form),
        product_id=product_id,
        safety_level=stock.quantity(one(form, "safety_level"), allow_zero=True, field="safety_level"),
    )
    return f"/h5/stock/products/{product_id}?" + urlencode({"done": f"安全库存已设为 {level.safety_level}"})


form_page(routes, "/h5/stock/products/{id}", _product_page, _set_safety, _product_id)


# Receive (入库 / 退货入库) and count (盘点).


def _warehouse_id(form: Fields) -> int:
    warehouse_id = to_int(one(form, "warehouse_id"), 0)
    if warehouse_id <= 0:
        raise Invalid("请选择仓库", "warehouse_id")
    return warehouse_id


def _product_of(form: Fields) -> int:
    product_id = to_int(one(form, "product_id"), 0)
    if product_id <= 0:
        raise Invalid("请选择产品", "product_id")
    return product_id


def _form_page(template: str, action: StockMoveKind) -> Page:
    """The receive and count forms: the same fields, each its own template and rule."""

    async def page(
        request: web.Request,
        *,
        error: str | None = None,
        errors: dict[str, str] | None = None,
        form: Fields | None = None,
        status: int = 200,
        **_: Any,
    ) -> web.Response:
        staff = api_staff(request)
        await stock.check(staff, action)
        chosen = form or {
            "product_id": [request.query.get("product", "")],
            "warehouse_id": [request.query.get("warehouse", "")],
        }
        return render(
            request,
            template,
            status=status,
            warehouses=[w for w in await stock.warehouses_for(staff) if w.active],
            products=await stock.stocked_products(),
            csrf=csrf_token(staff),
            error=error,
            errors=errors or {},
            form=chosen,
        )

    return page


async def _receive(staff: Staff, _: None, form: Fields, files: Files) -> str:
    warehouse_id, product_id = _warehouse_id(form), _product_of(form)
    amount = stock.quantity(one(form, "quantity"))
    returned = one(form, "kind") == StockMoveKind.RETURNED
    await stock.receive(
        actor=staff,
        warehouse_id=warehouse_id,
        lines=[Line(product_id, amount)],
        reason=one(form, "reason"),
        ref=one(form, "ref"),
        returned=returned,
    )
    done = f"已{'退货入库' if returned else '入库'} {amount}"
    return f"/h5/stock/products/{product_id}?" + urlencode({"done": done})


async def _count(staff: Staff, _: None, form: Fields, files: Files) -> str:
    warehouse_id, product_id = _warehouse_id(form), _product_of(form)
    counted = stock.quantity(one(form, "counted"), allow_zero=True, field="counted")
    move = await stock.count(
        actor=staff, warehouse_id=warehouse_id, product_id=product_id, counted=counted, reason=one(form, "reason")
    )
    difference = f"{move.quantity:+d}" if move.quantity else "无差异"
    return f"/h5/stock/products/{product_id}?" + urlencode({"done": f"盘点已记录：{counted}（{difference}）"})


async def _no_subject(request: web.Request) -> None:
    return None


form_page(routes, "/h5/stock/receive", _form_page("stock_receive.html", StockMoveKind.RECEIVED), _receive, _no_subject)
form_page(routes, "/h5/stock/count", _form_page("stock_count.html", StockMoveKind.COUNTED), _count, _no_subject)
