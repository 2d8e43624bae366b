"""The dealer's H5 (经销商订货): the catalogue at the dealer's prices, the cart (a draft order), the order list
with the seed's filters and its CSV / Excel export, and each order's page with its pieces. The company's
dealer managers use the same list and order page to accept or return. Every button is a row of
workflow/dealer_lifecycle.py that `available` offers the member."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any
from urllib.parse import quote, urlencode

import xlsxwriter
from aiohttp import web

from infra.timeutil import local_today
from models import AuditAction, DealerOrder, DealerOrderKind, DealerOrderState, Role, Staff, StockKind
from webviews.auth import api_staff, csrf_token, h5_page
from webviews.forms import Fields, Files, form_page, no_subject, one, to_date, to_int
from webviews.render import render
from workflow import audit
from workflow.dealer_pieces import dealer_piece_step
from workflow.dealers import (
    MADE,
    DraftInput,
    OrderFilter,
    add_to_cart,
    all_series,
    catalogue,
    dealer_unit,
    dealer_units_for,
    export_rows,
    kind_of,
    list_orders,
    order_for,
    order_page,
    owed,
    quantity_of,
    save_draft,
    staff_choices,
    take,
)
from workflow.errors import Invalid, NotFound, WorkflowError
from workflow.pricing import fmt_money, money

routes = web.RouteTableDef()


def _refused(request: web.Request, refused: WorkflowError) -> web.Response:
    return render(request, "message.html", title="不能查看", message=refused.message, status=refused.status)


# The catalogue and the cart


async def _catalogue_page(
    request: web.Request, *, error: str | None = None, status: int = 200, form: Fields | None = None, **_: Any
) -> web.Response:
    staff = api_staff(request)
    try:
        unit = await dealer_unit(staff)
        query = request.query
        items = await catalogue(staff, q=query.get("q", ""), series=query.get("series", ""), kind=query.get("kind", ""))
    except WorkflowError as refused:
        return _refused(request, refused)
    draft = await DealerOrder.filter(created_by_id=staff.id, state=DealerOrderState.DRAFT).order_by("-id").first()
    return render(
        request,
        "dealer_catalog.html",
        status=status,
        items=items,
        unit=unit,
        series=await all_series(),
        q=request.query.get("q", ""),
        chosen=request.query.get("series", ""),
        kind=request.query.get("kind", ""),
        kinds=[(MADE, "定制产品"), *((k.value, k.label) for k in StockKind)],
        draft=draft,
        csrf=csrf_token(staff),
        error=error,
        notice=request.query.get("done"),
        owed=fmt_money(await owed([unit.id])),
    )


async def _add(staff: Staff, _: None, form: Fields, files: Files) -> str:
    product_id = to_int(one(form, "product_id"), -1)
    quantity = quantity_of(one(form, "quantity") or "1")
    number = one(form, "order")
    draft = await order_for(staff, number) if number else None
    order = await add_to_cart(actor=staff, product_id=product_id, quantity=quantity, order=draft)
    return "/h5/dealer?" + urlencode({"done": f"已加入订货单 {order.number}"})


form_page(routes, "/h5/dealer", _catalogue_page, _add, no_subject)


# The list


def _filter(request: web.Request) -> OrderFilter:
    query = request.query
    kind = query.get("kind", "")
    state = query.get("state", "")
    try:
        return OrderFilter(
            start=to_date(query.get("from", ""), "from"),
            end=to_date(query.get("to", ""), "to"),
            staff_id=to_int(query.get("staff"), 0) or None,
            dealer_id=to_int(query.get("dealer"), 0) or None,
            kind=DealerOrderKind(kind) if kind else None,
            min_amount=money(query.get("min", ""), "min", label="最低金额"),
            max_amount=money(query.get("max", ""), "max", label="最高金额"),
            state=DealerOrderState(state) if state else None,
            q=query.get("q", "")[:32],
        )
    except ValueError:
        raise Invalid("筛选条件不正确", "kind") from None


@routes.get("/h5/dealer/orders")
@h5_page
async def orders_page(request: web.Request) -> web.Response:
    staff = api_staff(request)
    try:
        f = _filter(request)
        orders = await list_orders(staff, f)
    except Invalid as refused:
        f, orders, error = OrderFilter(), [], refused.message
        return await _list(request, staff, f, orders, error=error, status=400)
    except WorkflowError as refused:
        return _refused(request, refused)
    return await _list(request, staff, f, orders)


async def _list(
    request: web.Request, staff: Staff, f: OrderFilter, orders: list[DealerOrder], *, error: str = "", status: int = 200
) -> web.Response:
    units = await dealer_units_for(staff)
    return render(
        request,
        "dealer_orders.html",
        status=status,
        orders=orders,
        f=f,
        query=urlencode(f.as_dict()),
        units=units,
        people=await staff_choices(staff),
        kinds=list(DealerOrderKind),
        states=list(DealerOrderState),
        is_dealer=staff.has_role(Role.DEALER),
        owed=fmt_money(await owed([u.id for u in units])),
        error=error,
    )


async def _exported(request: web.Request, fmt: str) -> tuple[list[list[Any]], str]:
    staff = api_staff(request)
    f = _filter(request)
    orders = await list_orders(staff, f)
    await audit.record(
        AuditAction.DEALER_ORDER_EXPORT,
        actor=staff,
        ip=request.remote or "",
        format=fmt,
        rows=len(orders),
        filter=f.as_dict(),
    )
    return export_rows(orders), quote(f"经销商订货单-{local_today():%Y%m%d}.{fmt}")


def _text(value: Any) -> Any:
    # A cell starting with = + - @ is a formula to a spreadsheet: text typed by someone must never run as one.
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@routes.get("/h5/dealer/orders.csv")
@h5_page
async def export_csv(request: web.Request) -> web.Response:
    try:
        rows, name = await _exported(request, "csv")
    except WorkflowError as refused:
        return _refused(request, refused)

    def build() -> str:
        out = io.StringIO()
        out.write("\ufeff")  # Excel reads the Chinese as UTF-8 only with the BOM
        csv.writer(out).writerows([[_text(v) for v in row] for row in rows])
        return out.getvalue()

    return web.Response(
        text=await asyncio.to_thread(build),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@routes.get("/h5/dealer/orders.xlsx")
@h5_page
async def export_xlsx(request: web.Request) -> web.Response:
    try:
        rows, name = await _exported(request, "xlsx")
    except WorkflowError as refused:
        return _refused(request, refused)

    def build() -> bytes:
        out = io.BytesIO()
        book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False})
        sheet = book.add_worksheet("经销商订货单")
        bold = book.add_format({"bold": True})
        for i, row in enumerate(rows):
            sheet.write_row(i, 0, [_text(v) for v in row], bold if i == 0 else None)
        sheet.set_column(0, 2, 18)
        sheet.set_column(3, 8, 14)
        book.close()
        return out.getvalue()

    return web.Response(
        body=await asyncio.to_thread(build),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


# One order


async def _order(request: web.Request) -> DealerOrder:
    try:
        return await order_for(api_staff(request), request.match_info["number"])
    except WorkflowError as exc:
        raise web.HTTPNotFound(
            text=render(request, "message.html", title="订货单不存在", message=exc.message).text,
            content_type="text/html",
        ) from exc


async def _order_page(
    request: web.Request, *, error: str | None = None, status: int = 200, form: Fields | None = None, **_: Any
) -> web.Response:
    staff = api_staff(request)
    order = await _order(request)
    page = await order_page(staff, order)
    return render(
        request,
        "dealer_order.html",
        status=status,
        page=page,
        steps={t.name: t for t in page.steps},
        kinds=list(DealerOrderKind),
        csrf=csrf_token(staff),
        error=error,
        notice=request.query.get("done"),
        form=form or {},
        fmt_money=fmt_money,
    )


def _draft_input(form: Fields) -> DraftInput:
    quantities = {}
    for key, values in form.items():
        if key.startswith("qty-"):
            line_id = to_int(key.removeprefix("qty-"), -1)
            quantities[line_id] = quantity_of(values[0] if values else "")
    removed = frozenset(to_int(v, -1) for v in form.get("remove", []))
    return DraftInput(quantities=quantities, removed=removed, kind=kind_of(one(form, "kind")), note=one(form, "note"))


async def _order_action(staff: Staff, order: DealerOrder, form: Fields, files: Files) -> str:
    step = one(form, "step")
    here = f"/h5/dealer/orders/{order.number}"
    # A draft's page sends its lines with its buttons: saved alone, or with the submission.
    edited = any(key.startswith("qty-") or key in ("remove", "kind", "note") for key in form)
    draft = _draft_input(form) if edited else None
    if step == "save":
        await save_draft(actor=staff, order=order, form=draft or _draft_input(form))
        return here + "?" + urlencode({"done": "已保存"})
    copied = await take(staff, order, step, reason=one(form, "reason"), draft=draft if step == "submit" else None)
    if copied is not None:
        return f"/h5/dealer/orders/{copied.number}?" + urlencode({"done": f"已复制 {order.number}，请核对后提交"})
    await order.refresh_from_db()
    return here + "?" + urlencode({"done": DealerOrderState(order.state).label})


form_page(routes, "/h5/dealer/orders/{number}", _order_page, _order_action, _order)


async def _piece_action(staff: Staff, order: DealerOrder, form: Fields, files: Files) -> str:
    """A piece's button on the order's page: only a piece of this order (which the member may see)."""
    # The button says the piece and the row the page showed for it ("id@step").
    raw_id, _, step = one(form, "piece_step").partition("@")
    piece_id = to_int(raw_id, -1)
    page = await order_page(staff, order)
    if not any(piece.id == piece_id for line in page.lines for piece in line.pieces):
        raise NotFound("这件产品不在这张订货单里")
    piece = await dealer_piece_step(staff, piece_id, step)
    return f"/h5/dealer/orders/{order.number}?" + urlencode({"done": f"{piece.production_number}：{piece.state.label}"})


form_page(routes, "/h5/dealer/orders/{number}/pieces", _order_page, _piece_action, _order)
