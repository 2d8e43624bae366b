"""Admin data: staff, the product catalogue and price lists' entries, imported from CSV files."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tortoise.transactions import in_transaction

from models import OrgUnit, PriceListEntry, Product, Role, Staff, UnitKind
from workflow.catalog import check_unit, parse_specs, price_list_of, require_admin, stock_kind
from workflow.errors import Invalid
from workflow.pricing import money

STAFF_HEADER = ["userid", "name", "roles", "org_unit"]
PRODUCT_HEADER = ["series", "model", "name"]
USERID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.@")


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def _rows(text: str, header: list[str], required: list[str]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = [f.strip() for f in reader.fieldnames or []]
    missing = [h for h in required if h not in fields]
    if missing:
        raise Invalid(f"表头缺少：{', '.join(missing)}（应为 {','.join(header)}）")
    rows = []
    for number, row in enumerate(reader, start=2):
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        if any(clean.values()):
            rows.append((number, clean))
    if not rows:
        raise Invalid("文件里没有数据行")
    return rows


async def ensure_unit(path_text: str) -> OrgUnit:
    """'总部/华东区/徐汇店' -> the unit, creating missing levels. path is '/1/4/9/' for subtree queries."""
    names = [n.strip() for n in path_text.replace("＞", "/").replace(">", "/").split("/") if n.strip()]
    if not names:
        raise Invalid("组织不能为空")
    parent: OrgUnit | None = None
    for name in names:
        unit = await OrgUnit.get_or_none(name=name, parent_id=parent.id if parent else None)
        if unit is None:
            unit = await OrgUnit.create(name=name, parent=parent)
            unit.path = (parent.path if parent else "/") + f"{unit.id}/"
            await unit.save(update_fields=["path"])
        parent = unit
    assert parent is not None
    return parent


async def import_staff(text: str) -> ImportResult:
    """CSV with header userid,name,roles,org_unit; roles separated by ';'. All rows or none. A member with
    the dealer role makes their unit a dealer's (经销商): its staff order at its price list (workflow/dealers.py)."""
    rows = _rows(text, STAFF_HEADER, STAFF_HEADER)
    parsed = []
    seen: set[str] = set()
    for number, row in rows:
        userid, name = row["userid"], row["name"]
        if not userid or not set(userid) <= USERID_CHARS or len(userid) > 64:
            raise Invalid(f"第 {number} 行：userid “{userid}” 不是有效的企业微信账号")
        if userid in seen:
            raise Invalid(f"第 {number} 行：userid {userid} 重复")
        seen.add(userid)
        if not name or len(name) > 64:
            raise Invalid(f"第 {number} 行：姓名为空或太长")
        roles = [r.strip() for r in row["roles"].replace("；", ";").split(";") if r.strip()]
        unknown = [r for r in roles if r not in Role._value2member_map_]
        if unknown or not roles:
            valid = "、".join(r.value for r in Role)
            raise Invalid(f"第 {number} 行：未知角色 {'、'.join(unknown) or '（空）'}；可用角色：{valid}")
        if not row["org_unit"]:
            raise Invalid(f"第 {number} 行：组织不能为空")
        parsed.append((userid, name, roles, row["org_unit"]))
    created = updated = 0
    async with in_transaction():
        for userid, name, roles, unit_path in parsed:
            unit = await ensure_unit(unit_path)
            if Role.DEALER.value in roles:
                await mark_dealer(unit)
            member = await Staff.get_or_none(userid=userid)
            if member is None:
                await Staff.create(userid=userid, name=name, roles=roles, org_unit=unit)
                created += 1
            else:
                member.name, member.roles, member.org_unit_id, member.active = name, roles, unit.id, True
                await member.save()
                updated += 1
    return ImportResult(created, updated)


async def import_products(text: str) -> ImportResult:
    """CSV with header series,model,name and, optionally: unit (件/樘/套/㎡...), list_price (元, two
    decimals at most; blank: unpriced), specs (`宽度mm=800-1600; 颜色=亮银|枪灰`), install_photos (result
    photos an install needs), maintenance_months (the maintenance cycle, e.g. 6 or 12; 0 for none) and
    stock_kind (standard / accessory / marketing, or 标准品 / 配件 / 物料: kept in stock; blank: made to measure).
    A column a file does not have leaves that field as it is, so older files still import.
    Upserts by (series, model); all rows or none."""
    rows = _rows(text, PRODUCT_HEADER, ["series", "model"])
    parsed: list[dict[str, Any]] = []
    for number, row in rows:
        if not row["series"] or not row["model"]:
            raise Invalid(f"第 {number} 行：系列和型号不能为空")
        if len(row["series"]) > 64 or len(row["model"]) > 64 or len(row.get("name", "")) > 128:
            raise Invalid(f"第 {number} 行：内容太长")
        values: dict[str, Any] = {"name": row.get("name", ""), "active": True}
        photos = _count(row.get("install_photos", ""), number, "install_photos", 0, 20)
        months = _count(row.get("maintenance_months", ""), number, "maintenance_months", 0, 60)
        if photos is not None:
            values["install_photo_min"] = photos
        if months is not None:
            values["maintenance_months"] = months
        try:
            if "unit" in row:
                values["unit"] = check_unit(row["unit"])
            if "list_price" in row:
                values["list_price"] = money(row["list_price"], "file", label="list_price")
            if "specs" in row:
                values["specs"] = parse_specs(row["specs"])
            if "stock_kind" in row:
                values["stock_kind"] = stock_kind(row["stock_kind"])
        except Invalid as refused:
            raise Invalid(f"第 {number} 行：{refused.message}") from refused
        parsed.append(values)
    created = updated = 0
    async with in_transaction():
        for (_, row), values in zip(rows, parsed, strict=True):
            product, made = await Product.get_or_create(series=row["series"], model=row["model"])
            product.update_from_dict(values)
            await product.save()
            created += made
            updated += not made
    return ImportResult(created, updated)


def _count(text: str, line: int, column: str, low: int, high: int) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise Invalid(f"第 {line} 行：{column} 应为 {low} 到 {high} 的整数")
    return int(text)


async def import_price_entries(*, actor: Staff, price_list_id: int, text: str) -> int:
    """CSV with header series,model,price: every row's price on the list; all rows or none."""
    require_admin(actor)
    await price_list_of(price_list_id)
    rows = _rows(text, ["series", "model", "price"], ["series", "model", "price"])
    products = {(p.series, p.model): p.id for p in await Product.all()}
    parsed: list[tuple[int, Decimal]] = []
    for number, row in rows:
        pid = products.get((row["series"], row["model"]))
        if pid is None:
            raise Invalid(f"第 {number} 行：产品 {row['series']} {row['model']} 不在目录中")
        try:
            price = money(row["price"], "file", label="价格")
        except Invalid as refused:
            raise Invalid(f"第 {number} 行：{refused.message}") from refused
        if price is None:
            raise Invalid(f"第 {number} 行：价格不能为空")
        parsed.append((pid, price))
    async with in_transaction():
        for pid, price in parsed:
            updated = await PriceListEntry.filter(price_list_id=price_list_id, product_id=pid).update(price=price)
            if not updated:
                await PriceListEntry.create(price_list_id=price_list_id, product_id=pid, price=price)
    return len(parsed)


async def mark_dealer(unit: OrgUnit) -> None:
    """The unit is a dealer's: its dealer staff order from the factory and see only its orders."""
    if unit.kind != UnitKind.DEALER:
        await OrgUnit.filter(id=unit.id).update(kind=UnitKind.DEALER)
        unit.kind = UnitKind.DEALER
