"""The demo's stock (库存): the 华东仓 warehouse with the stocked products received by 冯仓管, safety
levels set by 蔡采购, and a dealer's order reserving hinges so that they fall below their safety level:
蔡采购 has the card in the console."""

from __future__ import annotations

from models import Product, Staff

WAREHOUSE = "华东仓"
UNIT = "朗斯家居/华东区"
# model: (received, safety level)
RECEIVED = {
    "SB90": (12, 3),
    "MB60": (8, 2),
    "HJ-01": (40, 30),
    "LS-01": (60, 20),
    "MF-2m": (100, 20),
    "ZJ-A": (5, 1),
    "DM-2026": (500, 100),
}


async def seed_stock() -> None:
    from workflow import stock

    warehouse = await stock.open_warehouse(name=WAREHOUSE, unit_path=UNIT)
    keeper, buyer = await Staff.get(userid="fengcangku"), await Staff.get(userid="caicaigou")
    products = {p.model: p for p in await Product.filter(model__in=list(RECEIVED))}
    lines = [stock.Line(products[model].id, received) for model, (received, _) in RECEIVED.items()]
    await stock.receive(actor=keeper, warehouse_id=warehouse.id, lines=lines, reason="期初入库", ref="demo")
    for model, (_, safety) in RECEIVED.items():
        await stock.set_safety_level(
            actor=buyer, warehouse_id=warehouse.id, product_id=products[model].id, safety_level=safety
        )
    hinges = [stock.Line(products["HJ-01"].id, 16), stock.Line(products["ZJ-A"].id, 1)]
    await stock.reserve(
        warehouse_id=warehouse.id, lines=hinges, ref="demo:经销商备货", actor=None, reason="经销商订货（演示）"
    )
