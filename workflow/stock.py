"""Stock (库存) of stocked products per warehouse: received, reserved by an order, released, issued,
returned and counted, each a StockMove row with who and why.

available = on_hand - reserved and it is never negative: every change is one conditional UPDATE whose
WHERE holds the rule (a reservation: `on_hand >= reserved + q`), so of two orders for the last unit at
the same instant one updates the row and the other finds nothing to update and is told what is left.
A level that falls below its safety level tells purchasing once (below_safety is set by a conditional
update too, and cleared when it rises back).

reserve / release / issue are for other workflows (a dealer's order): they check no role, the caller's
lifecycle does; they ignore products that are not stocked (made to measure). receive / return / count /
set_safety_level are staff actions, checked against RULES.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.functions import Sum
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from cards.stock import LevelLine
from models import AuditAction, OrgUnit, Product, Role, Staff, StockLevel, StockMove, StockMoveKind, Warehouse
from workflow import audit, notify, webhooks
from workflow.errors import Conflict, Invalid, NotAllowed, NotFound
from workflow.scope import require_role

# The most one move may take, a guard against a typo (a barcode in the quantity field).
MAX_QUANTITY = 1_000_000


@dataclass(frozen=True)
class Line:
    product_id: int
    quantity: int


class OutOfStock(Conflict):
    """A reservation asked for more than is available; says which product and how many are left."""

    def __init__(self, product: str, *, available: int, wanted: int, unit: str = "件") -> None:
        super().__init__(f"{product} 库存不足：需要 {wanted} {unit}，现可用 {max(available, 0)} {unit}", "库存不足")
        self.available = max(available, 0)


# Who may do what (role, then the warehouse's part of the company unless the role covers everything).


class Action(StrEnum):
    VIEW = "view"
    RECEIVE = "receive"
    RETURN = "return"
    COUNT = "count"
    SAFETY = "safety"


@dataclass(frozen=True)
class Rule:
    verb: str  # what the refusal says the member may not do
    roles: tuple[Role, ...]


ANYWHERE = (Role.ADMIN,)  # roles not limited to their own part of the company
RULES = {
    Action.VIEW: Rule("查看库存", (Role.WAREHOUSE, Role.PURCHASING, Role.MANAGER, Role.ADMIN)),
    Action.RECEIVE: Rule("入库", (Role.WAREHOUSE, Role.ADMIN)),
    Action.RETURN: Rule("登记退货入库", (Role.WAREHOUSE, Role.ADMIN)),
    Action.COUNT: Rule("盘点", (Role.WAREHOUSE, Role.ADMIN)),
    Action.SAFETY: Rule("设置安全库存", (Role.PURCHASING, Role.ADMIN)),
}


def may(actor: Staff, action: Action) -> bool:
    """The member's role allows the action somewhere (pages use it for their links and forms)."""
    return any(actor.has_role(r) for r in RULES[action].roles)


async def check(actor: Staff, action: Action, warehouse: Warehouse | None = None) -> None:
    """The one place stock refusals come from: role, then the warehouse's part of the company."""
    rule = RULES[action]
    if not may(actor, action):
        *first, last = [r.person for r in rule.roles]
        raise NotAllowed(f"只有{'、'.join(first)}{'或' if first else ''}{last}可以{rule.verb}")
    if warehouse is None or any(actor.has_role(r) for r in ANYWHERE):
        return
    if warehouse.id not in await warehouse_ids_for(actor):
        raise NotAllowed(f"{warehouse.name} 不在你负责的范围内，不能{rule.verb}")


async def warehouse_ids_for(actor: Staff) -> list[int]:
    """The warehouses in the member's part of the company (all of them for admins)."""
    found = Warehouse.all()
    if not any(actor.has_role(r) for r in ANYWHERE):
        unit = await OrgUnit.get(id=actor.org_unit_id)
        found = found.filter(org_unit__path__startswith=unit.path)
    return [warehouse.id for warehouse in await found.only("id")]


# Warehouses.


async def open_warehouse(*, name: str, unit_path: str) -> Warehouse:
    """Add a warehouse to an existing part of the company (`relay warehouse open`), or open a closed one
    again. Units are not made here: a typo in the path would make a unit nobody belongs to."""
    name = name.strip()
    if not name or len(name) > 64:
        raise Invalid("请填写仓库名称（64 字以内）", "name")
    names = [n.strip() for n in unit_path.split("/") if n.strip()]
    unit = None
    for part in names:
        unit = await OrgUnit.get_or_none(name=part, parent_id=unit.id if unit else None)
        if unit is None:
            raise NotFound(f"没有这个组织：{unit_path}", "unit")
    if unit is None:
        raise Invalid("请填写仓库所属的组织，例如 朗斯家居/华东区", "unit")
    warehouse = await Warehouse.get_or_none(name=name)
    if warehouse is None:
        return await Warehouse.create(name=name, org_unit=unit)
    await Warehouse.filter(id=warehouse.id).update(org_unit_id=unit.id, active=True)
    await warehouse.refresh_from_db()
    return warehouse


async def close_warehouse(*, name: str) -> Warehouse:
    """No new reservations go to a closed warehouse by default; its stock and moves stay as they are."""
    warehouse = await Warehouse.get_or_none(name=name.strip())
    if warehouse is None:
        raise NotFound(f"没有这个仓库：{name}", "name")
    await Warehouse.filter(id=warehouse.id).update(active=False)
    await warehouse.refresh_from_db()
    return warehouse


# Warehouses on the admin page (管理后台 → 仓库): the same rules as the command, by an admin, audited.


async def add_warehouse(*, actor: Staff, name: str, unit_id: int, ip: str = "") -> Warehouse:
    require_role(actor, Role.ADMIN)
    name = name.strip()
    if not name or len(name) > 64:
        raise Invalid("请填写仓库名称（64 字以内）", "name")
    mine = await OrgUnit.get(id=actor.org_unit_id)
    unit = await OrgUnit.get_or_none(id=unit_id, active=True)
    if unit is None or not unit.path.startswith(mine.path):
        raise Invalid("请选择仓库所属的组织", "unit")
    if await Warehouse.filter(name=name).exists():
        raise Invalid(f"已有名为 {name} 的仓库", "name")
    warehouse = await Warehouse.create(name=name, org_unit=unit)
    await audit.record(AuditAction.WAREHOUSE_EDIT, actor=actor, ip=ip, warehouse=name, unit=unit.name, active=True)
    return warehouse


async def set_warehouse_active(*, actor: Staff, warehouse_id: int, active: bool, ip: str = "") -> Warehouse:
    """A closed warehouse takes no new reservations by default; its stock and moves stay as they are."""
    require_role(actor, Role.ADMIN)
    warehouse = await Warehouse.get_or_none(id=warehouse_id).prefetch_related("org_unit")
    mine = await OrgUnit.get(id=actor.org_unit_id)
    # Another part of the company's warehouse is not this admin's to see, let alone to close.
    if warehouse is None or not warehouse.org_unit.path.startswith(mine.path):
        raise NotFound("仓库不存在")
    if warehouse.active != active:
        await Warehouse.filter(id=warehouse.id).update(active=active)
        warehouse.active = active
        await audit.record(AuditAction.WAREHOUSE_EDIT, actor=actor, ip=ip, warehouse=warehouse.name, active=active)
    return warehouse


async def kept_warehouses(actor: Staff) -> list[Warehouse]:
    """The warehouses an admin keeps (the admin page): those of their unit and the units under it."""
    mine = await OrgUnit.get(id=actor.org_unit_id)
    return await Warehouse.filter(org_unit__path__startswith=mine.path).order_by("id").prefetch_related("org_unit")


# The interface other workflows use.


async def default_warehouse() -> Warehouse:
    """The first active warehouse: where orders reserve when nothing says otherwise."""
    warehouse = await Warehouse.filter(active=True).order_by("id").first()
    if warehouse is None:
        raise NotFound("还没有仓库，请管理员先添加仓库")
    return warehouse


async def available(product_ids: Iterable[int], warehouse_id: int | None = None) -> dict[int, int]:
    """on_hand - reserved per product, in one warehouse or summed over all; 0 for a product with no stock."""
    ids = list(dict.fromkeys(product_ids))
    query = StockLevel.filter(product_id__in=ids)
    if warehouse_id is not None:
        query = query.filter(warehouse_id=warehouse_id)
    sums = query.group_by("product_id").annotate(h=Sum("on_hand"), r=Sum("reserved"))
    rows = await sums.values("product_id", "h", "r")
    found = {row["product_id"]: int(row["h"] or 0) - int(row["r"] or 0) for row in rows}
    return {pid: found.get(pid, 0) for pid in ids}


async def reserve(*, warehouse_id: int, lines: Sequence[Line], ref: str, actor: Staff | None, reason: str) -> None:
    """Hold stock for an order: all lines or none (OutOfStock names the first that is short)."""
    await _move_all(StockMoveKind.RESERVED, warehouse_id, lines, ref=ref, actor=actor, reason=reason)


async def release(*, warehouse_id: int, lines: Sequence[Line], ref: str, actor: Staff | None, reason: str) -> None:
    """Undo a reservation (the order was cancelled or changed)."""
    await _move_all(StockMoveKind.RELEASED, warehouse_id, lines, ref=ref, actor=actor, reason=reason)


async def issue(*, warehouse_id: int, lines: Sequence[Line], ref: str, actor: Staff | None, reason: str) -> None:
    """Reserved goods leave the warehouse: on hand and reserved both go down."""
    await _move_all(StockMoveKind.ISSUED, warehouse_id, lines, ref=ref, actor=actor, reason=reason)


# Staff actions.


async def receive(
    *, actor: Staff, warehouse_id: int, lines: Sequence[Line], reason: str, ref: str = "", returned: bool = False
) -> None:
    """Goods come in (入库), or come back from a customer or dealer (退货入库, `returned`)."""
    kind = StockMoveKind.RETURNED if returned else StockMoveKind.RECEIVED
    await check(actor, Action.RETURN if returned else Action.RECEIVE, await _warehouse(warehouse_id))
    await _move_all(kind, warehouse_id, lines, ref=ref, actor=actor, reason=reason, strict=True)


async def count(*, actor: Staff, warehouse_id: int, product_id: int, counted: int, reason: str) -> StockMove:
    """A stock-take (盘点): on hand becomes what was counted, the difference recorded as the move."""
    warehouse = await _warehouse(warehouse_id)
    await check(actor, Action.COUNT, warehouse)
    counted = quantity(counted, allow_zero=True, field="counted")
    product = await _stocked_product(product_id)
    async with in_transaction():
        level = await _level(product.id, warehouse.id)
        # Conditional on the on hand it read, so a reservation or receipt in between is never overwritten
        # (then it reads again).
        while True:
            if counted < level.reserved:
                held = level.reserved
                text = f"{product.label} 盘点数 {counted} 少于已预留的 {held}：请先处理相应订单的预留"
                raise Conflict(text, "少于预留")
            done = await StockLevel.filter(id=level.id, on_hand=level.on_hand, reserved__lte=counted).update(
                on_hand=counted
            )
            if done:
                break
            await level.refresh_from_db()
        difference, level.on_hand = counted - level.on_hand, counted
        move = await _record(StockMoveKind.COUNTED, level, difference, actor=actor, reason=reason, ref="")
        await _tell_purchasing([level.id])
    return move


async def set_safety_level(*, actor: Staff, warehouse_id: int, product_id: int, safety_level: int) -> StockLevel:
    """Purchasing sets below how many available it wants to hear (0: never)."""
    warehouse = await _warehouse(warehouse_id)
    await check(actor, Action.SAFETY, warehouse)
    safety_level = quantity(safety_level, allow_zero=True, field="safety_level")
    product = await _stocked_product(product_id)
    async with in_transaction():
        level = await _level(product.id, warehouse.id)
        await StockLevel.filter(id=level.id).update(safety_level=safety_level)
        await _tell_purchasing([level.id])
    await level.refresh_from_db()
    return level


# How a move is made.

# Each kind's conditional update: the WHERE that keeps the level sound, and the change.
Change = tuple[dict[str, object], dict[str, object]]


def _change(kind: StockMoveKind, q: int) -> Change:
    if kind is StockMoveKind.RESERVED:
        return {"on_hand__gte": F("reserved") + q}, {"reserved": F("reserved") + q}
    if kind is StockMoveKind.RELEASED:
        return {"reserved__gte": q}, {"reserved": F("reserved") - q}
    if kind is StockMoveKind.ISSUED:
        return {"reserved__gte": q, "on_hand__gte": q}, {"on_hand": F("on_hand") - q, "reserved": F("reserved") - q}
    return {}, {"on_hand": F("on_hand") + q}  # received, returned


async def _move_all(
    kind: StockMoveKind,
    warehouse_id: int,
    lines: Sequence[Line],
    *,
    ref: str,
    actor: Staff | None,
    reason: str,
    strict: bool = False,
) -> None:
    """One move per stocked line, all or none, in the caller's transaction (a savepoint inside it).
    Products are taken in id order, so two orders for the same products never wait on each other in a
    circle. `strict`: a product that is not stocked is refused rather than passed over."""
    wanted = await _stocked_lines(lines, strict=strict)
    if not wanted:
        return
    async with in_transaction():
        touched = []
        for product, q in wanted:
            level = await (_level(product.id, warehouse_id) if kind in _ADDS else _existing(product.id, warehouse_id))
            where, change = _change(kind, q)
            if level is None or not await StockLevel.filter(id=level.id, **where).update(**change):
                raise await _refusal(kind, product, warehouse_id, q)
            await level.refresh_from_db()
            await _record(kind, level, q, actor=actor, reason=reason, ref=ref)
            touched.append(level.id)
        await _tell_purchasing(touched)


_ADDS = (StockMoveKind.RECEIVED, StockMoveKind.RETURNED)


async def _refusal(kind: StockMoveKind, product: Product, warehouse_id: int, q: int) -> Conflict:
    level = await _existing(product.id, warehouse_id)
    if kind is StockMoveKind.RESERVED:
        return OutOfStock(product.label, available=level.available if level else 0, wanted=q, unit=product.unit)
    held = level.reserved if level else 0
    action = "出库" if kind is StockMoveKind.ISSUED else "取消预留"
    return Conflict(f"{product.label} 只预留了 {held} {product.unit}，不能{action} {q} {product.unit}", "预留不足")


async def _record(
    kind: StockMoveKind, level: StockLevel, amount: int, *, actor: Staff | None, reason: str, ref: str
) -> StockMove:
    return await StockMove.create(
        product_id=level.product_id,
        warehouse_id=level.warehouse_id,
        kind=kind,
        quantity=amount,
        on_hand_after=level.on_hand,
        reserved_after=level.reserved,
        actor=actor,
        reason=reason.strip()[:255],
        ref=ref[:64],
    )


async def _tell_purchasing(level_ids: list[int]) -> None:
    """Levels just changed: those that fell below their safety level tell purchasing (once: the flag is
    set by a conditional update, so two moves at once tell once), those back at or above it are reset."""
    if not level_ids:
        return
    ids = list(dict.fromkeys(level_ids))
    await StockLevel.filter(id__in=ids, below_safety=True, safety_level__lte=F("on_hand") - F("reserved")).update(
        below_safety=False
    )
    crossed = []
    told: dict[int, list[str]] = {}  # by warehouse
    for level_id in ids:
        if await StockLevel.filter(
            id=level_id, below_safety=False, safety_level__gt=F("on_hand") - F("reserved")
        ).update(below_safety=True):
            level = await StockLevel.get(id=level_id).prefetch_related("product", "warehouse")
            if level.warehouse_id not in told:
                told[level.warehouse_id] = await _purchasing_for(level.warehouse)
            crossed.append((level_line(level), told[level.warehouse_id]))
            await webhooks.emit(
                webhooks.STOCK_BELOW_SAFETY,
                {
                    "product_id": level.product_id,
                    "model": level.product.model,
                    "warehouse_id": level.warehouse_id,
                    "warehouse": level.warehouse.name,
                    "on_hand": level.on_hand,
                    "reserved": level.reserved,
                    "available": level.available,
                    "safety_level": level.safety_level,
                },
            )
    await notify.stock_below_safety(crossed)


async def _purchasing_for(warehouse: Warehouse) -> list[str]:
    """Purchasing members whose part of the company holds the warehouse."""
    unit = await OrgUnit.get(id=warehouse.org_unit_id)
    members = await Staff.filter(active=True).prefetch_related("org_unit")
    return [m.userid for m in members if m.has_role(Role.PURCHASING) and unit.path.startswith(m.org_unit.path)]


def level_line(level: StockLevel) -> LevelLine:
    """A level with its product and warehouse fetched, as cards and pages show it."""
    return LevelLine(
        level_id=level.id,
        product_id=level.product_id,
        product=level.product.label,
        warehouse=level.warehouse.name,
        on_hand=level.on_hand,
        reserved=level.reserved,
        safety_level=level.safety_level,
        unit=level.product.unit,
    )


# Input.


def quantity(value: object, *, allow_zero: bool = False, field: str = "quantity") -> int:
    """A whole number of units, as staff type it; refused in words otherwise."""
    text = str(value).strip()
    if not text:
        raise Invalid("请填写数量", field)
    try:
        number = int(text)
    except ValueError:
        raise Invalid(f"数量必须是整数：{text[:20]}", field) from None
    if number < 0 or (number == 0 and not allow_zero):
        raise Invalid("数量必须大于 0" if not allow_zero else "数量不能是负数", field)
    if number > MAX_QUANTITY:
        raise Invalid(f"数量不能超过 {MAX_QUANTITY}", field)
    return number


async def _stocked_lines(lines: Sequence[Line], *, strict: bool) -> list[tuple[Product, int]]:
    """The lines' stocked products with their quantities summed, in product id order."""
    totals: dict[int, int] = {}
    for line in lines:
        totals[line.product_id] = totals.get(line.product_id, 0) + quantity(line.quantity)
    products = {p.id: p for p in await Product.filter(id__in=list(totals))}
    if missing := [pid for pid in totals if pid not in products]:
        raise NotFound(f"没有这个产品：{missing[0]}", "product_id")
    if strict and (loose := [products[pid] for pid in totals if products[pid].stock_kind is None]):
        raise Invalid(f"{loose[0].label} 是定制产品，不入库存", "product_id")
    return [(products[pid], totals[pid]) for pid in sorted(totals) if products[pid].stock_kind is not None]


async def _stocked_product(product_id: int) -> Product:
    product = await Product.get_or_none(id=product_id)
    if product is None:
        raise NotFound(f"没有这个产品：{product_id}", "product_id")
    if product.stock_kind is None:
        raise Invalid(f"{product.label} 是定制产品，不入库存", "product_id")
    return product


async def _warehouse(warehouse_id: int) -> Warehouse:
    warehouse = await Warehouse.get_or_none(id=warehouse_id)
    if warehouse is None:
        raise NotFound("没有这个仓库", "warehouse_id")
    return warehouse


async def _existing(product_id: int, warehouse_id: int) -> StockLevel | None:
    return await StockLevel.get_or_none(product_id=product_id, warehouse_id=warehouse_id)


async def _level(product_id: int, warehouse_id: int) -> StockLevel:
    """The level, made empty the first time the product is kept in the warehouse."""
    level = await _existing(product_id, warehouse_id)
    if level is not None:
        return level
    try:
        async with in_transaction():  # a savepoint: the same level made at the same moment elsewhere
            return await StockLevel.create(product_id=product_id, warehouse_id=warehouse_id)
    except IntegrityError:
        return await StockLevel.get(product_id=product_id, warehouse_id=warehouse_id)


# What the pages, the chat answer and the API read.


async def warehouses_for(actor: Staff) -> list[Warehouse]:
    """The warehouses the member may see, active ones first."""
    await check(actor, Action.VIEW)
    return await Warehouse.filter(id__in=await warehouse_ids_for(actor)).order_by("-active", "id")


async def stocked_products() -> list[Product]:
    return await Product.filter(active=True, stock_kind__isnull=False).order_by("series", "model")


async def levels(
    actor: Staff, *, query: str = "", warehouse_id: int | None = None, below_only: bool = False, limit: int = 500
) -> list[LevelLine]:
    """Stock levels the member may see, searched by series, model or name, by product then warehouse."""
    await check(actor, Action.VIEW)
    ids = [i for i in await warehouse_ids_for(actor) if warehouse_id in (None, i)]
    found = _search(StockLevel.filter(warehouse_id__in=ids), query, below_only)
    ordered = found.order_by("product__series", "product__model", "warehouse_id").limit(limit)
    return [level_line(level) for level in await ordered.prefetch_related("product", "warehouse")]


async def level_page(
    *, after: int = 0, limit: int = 100, query: str = "", warehouse_id: int | None = None, below_only: bool = False
) -> list[StockLevel]:
    """Every warehouse's levels by id, from after `after` (the API: a service token sees the company's
    stock), with product and warehouse fetched."""
    found = StockLevel.filter(id__gt=after)
    if warehouse_id is not None:
        found = found.filter(warehouse_id=warehouse_id)
    found = _search(found, query, below_only)
    return await found.order_by("id").limit(limit).prefetch_related("product", "warehouse")


def _search(found: QuerySet[StockLevel], query: str, below_only: bool) -> QuerySet[StockLevel]:
    if text := query.replace("\x00", "").strip()[:64]:  # PostgreSQL's text holds no NUL
        found = found.filter(
            Q(product__model__icontains=text) | Q(product__name__icontains=text) | Q(product__series__icontains=text)
        )
    if below_only:
        found = found.filter(safety_level__gt=F("on_hand") - F("reserved"))
    return found


@dataclass(frozen=True)
class MoveLine:
    at: datetime
    warehouse: str
    kind: StockMoveKind
    quantity: int
    on_hand_after: int
    reserved_after: int
    actor: str  # the member's name, or 系统 for a service token or Relay itself
    reason: str
    ref: str


async def product_moves(actor: Staff, product_id: int, *, limit: int = 200) -> tuple[Product, list[MoveLine]]:
    """A stocked product's moves in the warehouses the member may see, newest first."""
    await check(actor, Action.VIEW)
    product = await _stocked_product(product_id)
    moves = (
        await StockMove.filter(product_id=product.id, warehouse_id__in=await warehouse_ids_for(actor))
        .order_by("-id")
        .limit(limit)
        .prefetch_related("actor", "warehouse")
    )
    return product, [
        MoveLine(
            at=m.created_at,
            warehouse=m.warehouse.name,
            kind=m.kind,
            quantity=m.quantity,
            on_hand_after=m.on_hand_after,
            reserved_after=m.reserved_after,
            actor=m.actor.name if m.actor else "系统",
            reason=m.reason,
            ref=m.ref,
        )
        for m in moves
    ]
