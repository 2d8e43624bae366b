"""Admin data: staff, the product catalogue and price lists' entries imported from CSV files; staff's
roles, units and standing and the org units changed one at a time on the admin page."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tortoise.transactions import in_transaction

from models import AuditAction, DealerOrder, OrgUnit, PriceListEntry, Product, Role, Staff, UnitKind
from workflow import audit
from workflow.catalog import check_unit, parse_specs, price_list_of, require_admin, stock_kind
from workflow.directory import SyncResult, depart
from workflow.errors import Invalid, NotAllowed, NotFound
from workflow.org_units import rehome_unit
from workflow.pricing import money
from workflow.scope import require_role

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
    await audit.record(AuditAction.PRICES_EDIT, actor=actor, price_list=price_list_id, imported=len(parsed))
    return len(parsed)


# Staff and org units, one change at a time (the admin page). An admin acts within their part of the
# company; every change is audited; nobody and nothing is deleted, only deactivated.

LINKED = "此组织来自企业微信通讯录，请在企业微信中修改"


async def _within(actor: Staff, unit: OrgUnit) -> None:
    mine = await OrgUnit.get(id=actor.org_unit_id)
    if not unit.path.startswith(mine.path):
        raise NotAllowed(f"{unit.name} 不在你负责的范围内")


async def staff_of(actor: Staff, staff_id: int) -> Staff:
    require_role(actor, Role.ADMIN)
    member = await Staff.get_or_none(id=staff_id)
    if member is None:
        raise NotFound("人员不存在")
    await _within(actor, await OrgUnit.get(id=member.org_unit_id))
    return member


async def unit_of(actor: Staff, unit_id: int) -> OrgUnit:
    require_role(actor, Role.ADMIN)
    unit = await OrgUnit.get_or_none(id=unit_id)
    if unit is None:
        raise NotFound("组织不存在")
    await _within(actor, unit)
    return unit


async def set_roles(*, actor: Staff, staff_id: int, roles: list[str], ip: str = "") -> Staff:
    """The member's roles, as the admin ticked them. A role the admin gives or keeps is the admin's: a
    WeCom tag no longer takes it away."""
    member = await staff_of(actor, staff_id)
    unknown = [r for r in roles if r not in Role._value2member_map_]
    if unknown:
        raise Invalid(f"未知角色：{'、'.join(unknown)}", "roles")
    wanted: list[str] = [r.value for r in Role if r.value in roles]
    if member.id == actor.id and Role.ADMIN.value not in wanted:
        raise Invalid("不能取消自己的管理员角色", "roles")
    before = list(member.roles)
    if set(before) == set(wanted):
        return member
    member.roles = wanted
    member.tag_roles = [r for r in member.tag_roles or [] if r in wanted and r in before]
    await member.save(update_fields=["roles", "tag_roles"])
    await audit.record(
        AuditAction.STAFF_EDIT, actor=actor, ip=ip, staff=member.userid, roles_from=before, roles_to=wanted
    )
    return member


async def move_staff(*, actor: Staff, staff_id: int, unit_id: int, ip: str = "") -> Staff:
    member = await staff_of(actor, staff_id)
    unit = await unit_of(actor, unit_id)
    if not unit.active:
        raise Invalid(f"{unit.name} 已停用", "unit")
    if member.org_unit_id == unit.id:
        return member
    before = (await OrgUnit.get(id=member.org_unit_id)).name
    member.org_unit_id = unit.id
    await member.save(update_fields=["org_unit_id"])
    await audit.record(
        AuditAction.STAFF_EDIT, actor=actor, ip=ip, staff=member.userid, unit_from=before, unit_to=unit.name
    )
    return member


async def set_staff_active(*, actor: Staff, staff_id: int, active: bool, ip: str = "") -> tuple[Staff, int]:
    """Deactivate (their open work handed back, as when they leave) or reactivate a member; returns the
    member and how many jobs, leads and tickets went back."""
    member = await staff_of(actor, staff_id)
    if member.id == actor.id:
        raise Invalid("不能停用自己的账号")
    if member.active == active:
        return member, 0
    result = SyncResult()
    async with in_transaction():
        if active:
            await Staff.filter(id=member.id).update(active=True, left_at=None)
        else:
            await depart(member, result, left=False)
    await member.refresh_from_db()
    await audit.record(
        AuditAction.STAFF_EDIT, actor=actor, ip=ip, staff=member.userid, active=active, returned=result.returned
    )
    return member, result.returned


def _unit_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 100 or "/" in name:
        raise Invalid("组织名称不能为空，100 字以内，不能含“/”", "name")
    return name


async def _parent(actor: Staff, parent_id: int) -> OrgUnit:
    parent = await unit_of(actor, parent_id)
    if not parent.active:
        raise Invalid(f"上级组织 {parent.name} 已停用", "parent")
    return parent


async def _name_free(name: str, parent: OrgUnit | None, *, unit_id: int | None = None) -> None:
    clash = OrgUnit.filter(name=name, parent_id=parent.id if parent else None)
    if unit_id is not None:
        clash = clash.exclude(id=unit_id)
    if await clash.exists():
        raise Invalid(f"{parent.name if parent else '最上级'}下已有“{name}”", "name")


async def create_unit(*, actor: Staff, name: str, parent_id: int, ip: str = "") -> OrgUnit:
    name = _unit_name(name)
    parent = await _parent(actor, parent_id)
    await _name_free(name, parent)
    async with in_transaction():
        unit = await OrgUnit.create(name=name, parent=parent)
        await rehome_unit(unit, parent)
    await audit.record(AuditAction.UNIT_EDIT, actor=actor, ip=ip, unit=unit.id, created=name, parent=parent.name)
    return unit


async def rename_unit(*, actor: Staff, unit_id: int, name: str, ip: str = "") -> OrgUnit:
    unit = await unit_of(actor, unit_id)
    if unit.wecom_department_id is not None:
        raise Invalid(LINKED, "name")
    name = _unit_name(name)
    if name == unit.name:
        return unit
    parent = await OrgUnit.get_or_none(id=unit.parent_id) if unit.parent_id else None  # type: ignore[attr-defined]
    await _name_free(name, parent, unit_id=unit.id)
    before, unit.name = unit.name, name
    await unit.save(update_fields=["name"])
    await audit.record(AuditAction.UNIT_EDIT, actor=actor, ip=ip, unit=unit.id, name_from=before, name_to=name)
    return unit


async def move_unit(*, actor: Staff, unit_id: int, parent_id: int, ip: str = "") -> OrgUnit:
    unit = await unit_of(actor, unit_id)
    if unit.wecom_department_id is not None:
        raise Invalid(LINKED, "parent")
    if unit.parent_id is None:  # type: ignore[attr-defined]
        raise Invalid("最上级组织不能移动", "parent")
    parent = await _parent(actor, parent_id)
    if parent.path.startswith(unit.path):
        raise Invalid("不能移到自己或自己的下级组织下", "parent")
    if parent.id == unit.parent_id:  # type: ignore[attr-defined]
        return unit
    await _name_free(unit.name, parent, unit_id=unit.id)
    before = await OrgUnit.get(id=unit.parent_id)  # type: ignore[attr-defined]
    async with in_transaction():
        await rehome_unit(unit, parent)
    await audit.record(
        AuditAction.UNIT_EDIT, actor=actor, ip=ip, unit=unit.id, parent_from=before.name, parent_to=parent.name
    )
    return unit


async def set_unit_active(*, actor: Staff, unit_id: int, active: bool, ip: str = "") -> OrgUnit:
    """Close a unit (停用) that no one active works in and nothing open hangs under, or open it again."""
    unit = await unit_of(actor, unit_id)
    if unit.wecom_department_id is not None:
        raise Invalid(LINKED)
    if unit.active == active:
        return unit
    if not active:
        if unit.parent_id is None:  # type: ignore[attr-defined]
            raise Invalid("最上级组织不能停用")
        if await Staff.filter(active=True, org_unit__path__startswith=unit.path).exists():
            raise Invalid(f"{unit.name} 及其下级还有在职人员，请先调整人员")
        if await OrgUnit.filter(active=True, path__startswith=unit.path).exclude(id=unit.id).exists():
            raise Invalid(f"{unit.name} 还有未停用的下级组织")
    unit.active = active
    await unit.save(update_fields=["active"])
    await audit.record(AuditAction.UNIT_EDIT, actor=actor, ip=ip, unit=unit.id, active=active)
    return unit


async def set_unit_kind(*, actor: Staff, unit_id: int, kind: str, ip: str = "") -> OrgUnit:
    """A unit is the company's own or a dealer's (its dealer staff order at its price list and see only its
    orders). Relay's own property: a unit from the WeCom directory may be a dealer's too. A dealer with orders
    stays a dealer, or its staff would lose them."""
    unit = await unit_of(actor, unit_id)
    try:
        wanted = UnitKind(kind)
    except ValueError:
        raise Invalid("请选择组织类型", "kind") from None
    if wanted == unit.kind:
        return unit
    if wanted == UnitKind.OWN and await DealerOrder.filter(dealer_id=unit.id).exists():
        raise Invalid(f"{unit.name} 已有经销商订货单，不能改为公司自有组织", "kind")
    before = unit.kind
    await OrgUnit.filter(id=unit.id).update(kind=wanted)
    unit.kind = wanted
    await audit.record(
        AuditAction.UNIT_EDIT, actor=actor, ip=ip, unit=unit.id, kind_from=before.value, kind_to=wanted.value
    )
    return unit


async def mark_dealer(unit: OrgUnit) -> None:
    """The unit is a dealer's: its dealer staff order from the factory and see only its orders."""
    if unit.kind != UnitKind.DEALER:
        await OrgUnit.filter(id=unit.id).update(kind=UnitKind.DEALER)
        unit.kind = UnitKind.DEALER
