"""The product catalogue and price lists, kept by admins (管理员): products with a unit, a list price,
specs and a photo, retired without touching the orders that name them; price lists per unit and
period with their entries (see workflow/pricing.py for which list an order takes)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from infra.storage import StoredFile
from models import OrgUnit, PriceList, PriceListEntry, Product, Role, Staff, StockKind
from workflow.errors import Invalid, NotAllowed, NotFound

UNITS = ("件", "樘", "套", "扇", "㎡", "米", "组")
MAX_SPECS = 20


def require_admin(actor: Staff) -> None:
    if not actor.has_role(Role.ADMIN):
        raise NotAllowed("只有管理员可以维护产品目录与价目表")


def parse_specs(text: str, field: str = "specs") -> dict[str, str | list[str]]:
    """Specs as typed by an admin or in a CSV: `宽度mm=800-1600; 玻璃=8mm 钢化; 颜色=亮银|枪灰` (a value
    with | is a list of options), or a JSON object. Blank: none."""
    text = (text or "").strip()
    if not text:
        return {}
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise Invalid("规格格式不正确：应为 名称=值; 名称=值", field) from exc
        if not isinstance(value, dict):
            raise Invalid("规格格式不正确：应为 名称=值; 名称=值", field)
        pairs = [(str(k), v if isinstance(v, list) else str(v)) for k, v in value.items()]
    else:
        pairs = []
        for part in text.replace("；", ";").split(";"):
            if not part.strip():
                continue
            key, sep, raw = part.replace("＝", "=").partition("=")
            if not sep or not key.strip() or not raw.strip():
                raise Invalid(f"规格“{part.strip()[:20]}”应写成 名称=值", field)
            options = [o.strip() for o in raw.replace("｜", "|").split("|") if o.strip()]
            pairs.append((key.strip(), options if len(options) > 1 else options[0]))
    if len(pairs) > MAX_SPECS:
        raise Invalid(f"规格最多 {MAX_SPECS} 项", field)
    specs: dict[str, str | list[str]] = {}
    for key, value in pairs:
        if len(key) > 32 or len(json.dumps(value, ensure_ascii=False)) > 200:
            raise Invalid(f"规格“{key[:20]}”太长", field)
        specs[key] = [str(v) for v in value] if isinstance(value, list) else value
    return specs


def specs_text(specs: dict[str, object]) -> str:
    """The form's way of writing specs back (parse_specs reads it)."""
    return "; ".join(f"{k}={'|'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in (specs or {}).items())


def stock_kind(text: str) -> StockKind | None:
    """A product's stock kind as a file or form gives it, by value or by label; blank: not stocked."""
    if not text:
        return None
    for kind in StockKind:
        if text in (kind.value, kind.label):
            return kind
    values, labels = " / ".join(k.value for k in StockKind), " / ".join(k.label for k in StockKind)
    raise Invalid(f"stock_kind 应为 {values}（{labels}）或留空")


def check_unit(text: str, field: str = "unit") -> str:
    unit = (text or "").strip() or "件"
    if len(unit) > 16:
        raise Invalid("计量单位最多 16 字", field)
    return unit


@dataclass(frozen=True)
class ProductInput:
    series: str
    model: str
    name: str = ""
    unit: str = "件"
    list_price: Decimal | None = None
    specs: dict[str, str | list[str]] | None = None
    stock_kind: StockKind | None = None  # kept in stock (workflow/stock.py); None: made to measure


def check_product(form: ProductInput) -> ProductInput:
    series, model, name = form.series.strip(), form.model.strip(), form.name.strip()
    if not series or not model:
        raise Invalid("请填写系列和型号", "series" if not series else "model")
    if len(series) > 64 or len(model) > 64:
        raise Invalid("系列、型号最多 64 字", "series" if len(series) > 64 else "model")
    if len(name) > 128:
        raise Invalid("名称最多 128 字", "name")
    return ProductInput(series, model, name, check_unit(form.unit), form.list_price, form.specs or {}, form.stock_kind)


async def save_product(
    *, actor: Staff, product_id: int | None, form: ProductInput, image: StoredFile | None = None
) -> Product:
    """Add a product (product_id None) or change one. Its orders keep what their lines copied."""
    require_admin(actor)
    form = check_product(form)
    values: dict[str, Any] = {
        "series": form.series,
        "model": form.model,
        "name": form.name,
        "unit": form.unit,
        "list_price": form.list_price,
        "specs": form.specs,
        "stock_kind": form.stock_kind,
    }
    if image is not None:
        if not image.content_type.startswith("image/"):
            raise Invalid("产品图片应为 JPG、PNG 等图片", "image")
        values.update(image_sha256=image.sha256, image_content_type=image.content_type)
    clash = Product.filter(series=form.series, model=form.model)
    if product_id is not None:
        clash = clash.exclude(id=product_id)
    if await clash.exists():
        raise Invalid(f"产品 {form.series} {form.model} 已存在", "model")
    try:
        if product_id is None:
            return await Product.create(**values)
        product = await Product.get_or_none(id=product_id)
        if product is None:
            raise NotFound("产品不存在")
        product.update_from_dict(values)
        await product.save()
        return product
    except IntegrityError as exc:
        raise Invalid(f"产品 {form.series} {form.model} 已存在", "model") from exc


async def set_product_active(*, actor: Staff, product_id: int, active: bool) -> Product:
    """Retire (下架) or bring back a product. A retired product is not offered on new orders; the orders
    that have it keep their lines as sold."""
    require_admin(actor)
    product = await Product.get_or_none(id=product_id)
    if product is None:
        raise NotFound("产品不存在")
    product.active = active
    await product.save(update_fields=["active"])
    return product


# Price lists


@dataclass(frozen=True)
class PriceListInput:
    name: str
    org_unit_id: int | None
    valid_from: date | None
    valid_to: date | None


async def save_price_list(*, actor: Staff, price_list_id: int | None, form: PriceListInput) -> PriceList:
    require_admin(actor)
    name = form.name.strip()
    errors: dict[str, str] = {}
    if not name or len(name) > 64:
        errors["name"] = "请填写价目表名称（64 字以内）"
    if form.valid_from is None:
        errors["valid_from"] = "请填写生效日期"
    elif form.valid_to is not None and form.valid_to < form.valid_from:
        errors["valid_to"] = "失效日期不能早于生效日期"
    if form.org_unit_id is not None and not await OrgUnit.exists(id=form.org_unit_id):
        errors["org_unit"] = "所选组织不存在"
    if errors:
        raise Invalid.several(errors)
    values: dict[str, Any] = {
        "name": name,
        "org_unit_id": form.org_unit_id,
        "valid_from": form.valid_from,
        "valid_to": form.valid_to,
    }
    if price_list_id is None:
        return await PriceList.create(**values)
    price_list = await price_list_of(price_list_id)
    price_list.update_from_dict(values)
    await price_list.save()
    return price_list


async def price_list_of(price_list_id: int) -> PriceList:
    price_list = await PriceList.get_or_none(id=price_list_id)
    if price_list is None:
        raise NotFound("价目表不存在")
    return price_list


async def set_entries(*, actor: Staff, price_list_id: int, prices: list[tuple[int, Decimal | None]]) -> None:
    """Set products' prices on the list, all or none; None takes one off (it falls back to a wider list)."""
    require_admin(actor)
    await price_list_of(price_list_id)
    known = set(await Product.filter(id__in=[pid for pid, _ in prices]).values_list("id", flat=True))
    if any(pid not in known for pid, _ in prices):
        raise Invalid("所选产品不存在，请刷新后重试")
    async with in_transaction():
        for pid, price in prices:
            entry = PriceListEntry.filter(price_list_id=price_list_id, product_id=pid)
            if price is None:
                await entry.delete()
            elif not await entry.update(price=price):
                await PriceListEntry.create(price_list_id=price_list_id, product_id=pid, price=price)
