"""Shared parts of the H5 views: reading forms (multipart or urlencoded), finding the order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar
from urllib.parse import unquote

from aiohttp import BodyPartReader, web
from multidict import MultiDictProxy

from infra.errors import UserError
from models import Order, Product, Staff
from webviews.auth import api_staff, check_csrf, h5_page
from webviews.render import render
from workflow.errors import Invalid, WorkflowError
from workflow.items import ItemInput
from workflow.pricing import LinePrice, money, percent
from workflow.scope import get_order_for

MAX_FORM_FILES = 20


async def products() -> list[Product]:
    return await Product.filter(active=True).order_by("series", "model")


# Ids and counts are 32-bit integer columns: a larger number from a form or URL matches nothing.
INT32 = 2**31 - 1


def to_int(value: object, default: int = 0) -> int:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return default
    return number if -INT32 <= number <= INT32 else default


def to_date(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid("日期格式不正确", field) from exc


async def read_form(request: web.Request) -> tuple[dict[str, list[str]], list[tuple[str, str, bytes]]]:
    """Fields and uploaded files of a multipart or urlencoded form."""
    fields: dict[str, list[str]] = {}
    files: list[tuple[str, str, bytes]] = []
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue  # nested multipart: no browser sends one
            if part.filename:
                if len(files) >= MAX_FORM_FILES:
                    raise Invalid(f"一次最多上传 {MAX_FORM_FILES} 个文件")
                data = await part.read(decode=False)
                if data:
                    # Non-browser clients (aiohttp, requests) percent-encode non-ASCII names (RFC 5987).
                    files.append((part.name or "", unquote(part.filename), bytes(data)))
            else:
                fields.setdefault(part.name or "", []).append(await part.text())
    else:
        post: MultiDictProxy[str | bytes] = await request.post()  # type: ignore[assignment]
        for key, value in post.items():
            fields.setdefault(key, []).append(str(value))
    return fields, files


def one(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name) or [""]
    return values[0].strip()


def item_rows(fields: dict[str, list[str]]) -> list[tuple[int, str, int]]:
    products = fields.get("product_id", [])
    rooms = fields.get("room", [])
    qtys = fields.get("quantity", [])
    rows = []
    for i, pid in enumerate(products):
        if not pid:
            continue
        room = rooms[i] if i < len(rooms) else ""
        qty = to_int(qtys[i] if i < len(qtys) else "1", 0)
        rows.append((to_int(pid, -1), room, qty))
    return rows


def item_inputs(fields: dict[str, list[str]]) -> list[ItemInput]:
    """The form's lines with what sales typed for each: a unit price or a discount (blank: list price).
    Invalid (field "items") for an amount or percentage that is not one, naming the line."""
    prices = fields.get("unit_price", [])
    discounts = fields.get("discount_pct", [])
    rooms = fields.get("room", [])
    qtys = fields.get("quantity", [])
    rows: list[ItemInput] = []
    for i, pid in enumerate(fields.get("product_id", [])):
        if not pid:
            continue
        try:
            typed = LinePrice(
                unit_price=money(prices[i] if i < len(prices) else "", "items", label="单价"),
                discount_pct=percent(discounts[i] if i < len(discounts) else "", "items"),
            )
        except Invalid as refused:
            raise Invalid(f"第 {len(rows) + 1} 个产品：{refused.message}", "items") from refused
        room = rooms[i] if i < len(rooms) else ""
        qty = to_int(qtys[i] if i < len(qtys) else "1", 0)
        rows.append(ItemInput(product_id=to_int(pid, -1), room=room, quantity=qty, price=typed))
    return rows


async def order_or_404(request: web.Request) -> Order:
    try:
        return await get_order_for(api_staff(request), request.match_info["number"])
    except WorkflowError as exc:
        raise web.HTTPNotFound(
            text=render(request, "message.html", title="订单不存在", message=exc.message).text,
            content_type="text/html",
        ) from exc


Fields = dict[str, list[str]]
Files = list[tuple[str, str, bytes]]
Page = Callable[..., Awaitable[web.Response]]  # page(request, *, error=, field=, errors=, form=, status=)
T = TypeVar("T")


def form_page(
    routes: web.RouteTableDef,
    path: str,
    page: Page,
    action: Callable[[Staff, T, Fields, Files], Awaitable[str]],
    subject: Callable[[web.Request], Awaitable[T]],
) -> None:
    """Every H5 form: GET shows the page; POST reads the form, checks CSRF and runs the action on the
    page's subject (its order), then goes where the action says. A refusal shows the page again with
    the message, every field it is about (`errors`) and what was typed, with the refusal's status.
    The page gets the same `form` the action read: an action may add to it what the page should keep
    (an uploaded photo, kept as a signed reference)."""

    async def show(request: web.Request) -> web.Response:
        return await page(request)

    async def submit(request: web.Request) -> web.Response:
        staff = api_staff(request)
        target = await subject(request)
        fields: Fields = {}
        try:
            fields, files = await read_form(request)
            check_csrf(request, staff, one(fields, "csrf"))
            goto = await action(staff, target, fields, files)
        except UserError as refused:
            extra: dict[str, Any] = {"field": refused.field, "errors": refused.errors, "form": fields}
            return await page(request, error=refused.message, status=refused.status, **extra)
        raise web.HTTPFound(goto)

    routes.get(path)(h5_page(show))
    routes.post(path)(h5_page(submit))


async def no_subject(request: web.Request) -> None:
    """For a form that creates its subject (a new order)."""
    return None
