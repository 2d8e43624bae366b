"""Admins' pages for the product catalogue (产品目录) and price lists (价目表); the product photo for all."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from infra.runtime import runtime
from models import OrgUnit, PriceList, PriceListEntry, Product, Staff, StockKind
from webviews.auth import api_staff, csrf_token, h5_page
from webviews.forms import Fields, Files, form_page, one, to_date, to_int
from webviews.render import render
from workflow import catalog
from workflow.admin import import_price_entries
from workflow.catalog import PriceListInput, ProductInput, parse_specs, require_admin, specs_text, stock_kind
from workflow.errors import Invalid, NotFound
from workflow.pricing import money

routes = web.RouteTableDef()


def _admin(request: web.Request) -> Staff:
    staff = api_staff(request)
    require_admin(staff)  # NotAllowed: the error middleware answers 403 with the message
    return staff


async def _nothing(request: web.Request) -> None:
    return None


def _product_form(form: Fields) -> ProductInput:
    errors: dict[str, str] = {}
    price = specs = kind = None
    try:
        kind = stock_kind(one(form, "stock_kind"))
    except Invalid as refused:
        errors["stock_kind"] = refused.message
    try:
        price = money(one(form, "list_price"), "list_price", label="目录价")
    except Invalid as refused:
        errors["list_price"] = refused.message
    try:
        specs = parse_specs(one(form, "specs"))
    except Invalid as refused:
        errors["specs"] = refused.message
    if errors:
        raise Invalid.several(errors)
    return ProductInput(
        series=one(form, "series"),
        model=one(form, "model"),
        name=one(form, "name"),
        unit=one(form, "unit"),
        list_price=price,
        specs=specs,
        stock_kind=kind,
    )


async def _image(files: Files) -> Any:
    upload = next((data for name, _, data in files if name == "image"), None)
    if upload is None:
        return None
    return await runtime().files.put_image(upload)


# Products


async def _products_page(
    request: web.Request,
    *,
    error: str | None = None,
    field: str = "",
    errors: dict[str, str] | None = None,
    form: Fields | None = None,
    status: int = 200,
) -> web.Response:
    staff = _admin(request)
    return render(
        request,
        "products.html",
        status=status,
        products=await Product.all().order_by("-active", "series", "model"),
        specs_text=specs_text,
        form=form or {},
        error=error,
        errors=errors or {},
        units=catalog.UNITS,
        stock_kinds=list(StockKind),
        csrf=csrf_token(staff),
        notice=request.query.get("done", "")[:60],
    )


async def _products_action(staff: Staff, _: None, form: Fields, files: Files) -> str:
    action, pid = one(form, "action"), to_int(one(form, "product_id"), -1)
    if action in ("retire", "reactivate"):
        product = await catalog.set_product_active(actor=staff, product_id=pid, active=action == "reactivate")
        done = "已下架" if action == "retire" else "已重新上架"
        return f"/h5/admin/products?done={done} {product.series} {product.model}"
    require_admin(staff)
    product = await catalog.save_product(
        actor=staff, product_id=None, form=_product_form(form), image=await _image(files)
    )
    return f"/h5/admin/products?done=已添加 {product.series} {product.model}"


form_page(routes, "/h5/admin/products", _products_page, _products_action, _nothing)


async def _product(request: web.Request) -> Product:
    product = await Product.get_or_none(id=to_int(request.match_info["id"], -1))
    if product is None:
        raise NotFound("产品不存在")
    return product


async def _product_page(
    request: web.Request,
    *,
    error: str | None = None,
    field: str = "",
    errors: dict[str, str] | None = None,
    form: Fields | None = None,
    status: int = 200,
) -> web.Response:
    staff = _admin(request)
    product = await _product(request)
    shown = form or {
        "series": [product.series],
        "model": [product.model],
        "name": [product.name],
        "unit": [product.unit],
        "list_price": ["" if product.list_price is None else f"{product.list_price:.2f}"],
        "specs": [specs_text(product.specs)],
        "stock_kind": [product.stock_kind.value if product.stock_kind else ""],
    }
    return render(
        request,
        "product.html",
        status=status,
        product=product,
        form=shown,
        error=error,
        errors=errors or {},
        units=catalog.UNITS,
        stock_kinds=list(StockKind),
        csrf=csrf_token(staff),
    )


async def _product_action(staff: Staff, product: Product, form: Fields, files: Files) -> str:
    require_admin(staff)
    saved = await catalog.save_product(
        actor=staff, product_id=product.id, form=_product_form(form), image=await _image(files)
    )
    return f"/h5/admin/products?done=已保存 {saved.series} {saved.model}"


form_page(routes, "/h5/admin/products/{id}", _product_page, _product_action, _product)


@routes.get("/h5/products/{id}/image", name="product_image")
@h5_page
async def product_image(request: web.Request) -> web.StreamResponse:
    """The catalogue photo, for any member (the order form and the measurer's page show it)."""
    product = await _product(request)
    if not product.image_sha256:
        raise web.HTTPNotFound(text="没有产品图片")
    thumb = request.query.get("thumb") == "1"
    path = runtime().files.path(product.image_sha256, thumbnail=thumb)
    headers = {"Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff"}
    response = web.FileResponse(path, headers=headers)
    response.content_type = "image/jpeg" if thumb else product.image_content_type or "application/octet-stream"
    return response


# Price lists


async def _units() -> list[OrgUnit]:
    return await OrgUnit.all().order_by("path")


def _price_list_form(form: Fields) -> PriceListInput:
    unit = to_int(one(form, "org_unit"), 0)
    return PriceListInput(
        name=one(form, "name"),
        org_unit_id=unit or None,
        valid_from=to_date(one(form, "valid_from"), "valid_from"),
        valid_to=to_date(one(form, "valid_to"), "valid_to"),
    )


async def _price_lists_page(
    request: web.Request,
    *,
    error: str | None = None,
    field: str = "",
    errors: dict[str, str] | None = None,
    form: Fields | None = None,
    status: int = 200,
) -> web.Response:
    staff = _admin(request)
    lists = await PriceList.all().order_by("org_unit_id", "-valid_from").prefetch_related("org_unit")
    counts = {pl.id: await PriceListEntry.filter(price_list_id=pl.id).count() for pl in lists}
    return render(
        request,
        "price_lists.html",
        status=status,
        lists=lists,
        counts=counts,
        units=await _units(),
        form=form or {},
        error=error,
        errors=errors or {},
        csrf=csrf_token(staff),
        notice=request.query.get("done", "")[:60],
    )


async def _price_lists_action(staff: Staff, _: None, form: Fields, files: Files) -> str:
    created = await catalog.save_price_list(actor=staff, price_list_id=None, form=_price_list_form(form))
    return f"/h5/admin/prices/{created.id}?done=价目表已创建"


form_page(routes, "/h5/admin/prices", _price_lists_page, _price_lists_action, _nothing)


async def _price_list(request: web.Request) -> PriceList:
    return await catalog.price_list_of(to_int(request.match_info["id"], -1))


async def _price_list_page(
    request: web.Request,
    *,
    error: str | None = None,
    field: str = "",
    errors: dict[str, str] | None = None,
    form: Fields | None = None,
    status: int = 200,
) -> web.Response:
    staff = _admin(request)
    price_list = await _price_list(request)
    entries = {e.product_id: e.price for e in await PriceListEntry.filter(price_list_id=price_list.id)}
    shown = form or {
        "name": [price_list.name],
        "org_unit": [str(price_list.org_unit_id or "")],
        "valid_from": [price_list.valid_from.isoformat()],
        "valid_to": [price_list.valid_to.isoformat() if price_list.valid_to else ""],
    }
    return render(
        request,
        "price_list.html",
        status=status,
        price_list=price_list,
        products=await Product.all().order_by("-active", "series", "model"),
        entries=entries,
        typed=dict(zip(form.get("entry_product", []), form.get("entry_price", []), strict=False)) if form else {},
        units=await _units(),
        form=shown,
        error=error,
        errors=errors or {},
        csrf=csrf_token(staff),
        notice=request.query.get("done", "")[:60],
    )


async def _price_list_action(staff: Staff, price_list: PriceList, form: Fields, files: Files) -> str:
    action = one(form, "action")
    here = f"/h5/admin/prices/{price_list.id}"
    if action == "entries":
        # Check every typed price first: one wrong price changes nothing.
        typed: list[tuple[int, Any]] = []
        errors: dict[str, str] = {}
        for pid, text in zip(form.get("entry_product", []), form.get("entry_price", []), strict=False):
            try:
                typed.append((to_int(pid, -1), money(text, f"price-{pid}", label="价格")))
            except Invalid as refused:
                errors[f"price-{pid}"] = refused.message
        if errors:
            raise Invalid.several(errors)
        await catalog.set_entries(actor=staff, price_list_id=price_list.id, prices=typed)
        return f"{here}?done=价格已保存"
    if action == "import":
        upload = next((data for name, _, data in files if name == "file"), None)
        if upload is None:
            raise Invalid("请选择 CSV 文件", "file")
        try:
            text = upload.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Invalid("文件应为 UTF-8 编码的 CSV", "file") from exc
        count = await import_price_entries(actor=staff, price_list_id=price_list.id, text=text)
        return f"{here}?done=已导入 {count} 个价格"
    await catalog.save_price_list(actor=staff, price_list_id=price_list.id, form=_price_list_form(form))
    return f"{here}?done=价目表已保存"


form_page(routes, "/h5/admin/prices/{id}", _price_list_page, _price_list_action, _price_list)
