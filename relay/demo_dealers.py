"""The demo's dealers (经销商): 苏州恒美建材 (李恒美, 徐采购) and 杭州佳居 (何佳佳) order at the dealers' price list
(杭州佳居 has a promotion of its own); 钱渠道, the company's dealer manager, accepts or returns. Made through the
workflow after the demo's stock (relay/demo_stock.py): 恒美 has an accepted order on the factory's line (a piece
in production, one finished, one shipped; its brochures issued from 华东仓), one waiting for 钱渠道 (its handles
reserved) and a draft in its cart; 佳居 has one returned with a reason."""

from __future__ import annotations

from datetime import timedelta

from infra.timeutil import local_today
from models import DealerOrder, DealerPiece, OrgUnit, Product, Staff
from relay.demo import demo_data


async def seed_dealers() -> None:
    from workflow.admin import import_price_entries
    from workflow.catalog import PriceListInput, save_price_list
    from workflow.dealers import accept, add_to_cart, return_order, submit
    from workflow.production import move_numbered

    admin = await Staff.get(userid="wangzong")
    today = local_today()
    hengmei, jiajia = await OrgUnit.get(name="苏州恒美建材"), await OrgUnit.get(name="杭州佳居")
    for name, unit, text in (
        ("经销价 2026 · 苏州恒美", hengmei, demo_data("prices_dealer.csv")),
        ("经销价 2026 · 杭州佳居", jiajia, demo_data("prices_dealer.csv").replace("3980", "3880")),
    ):
        form = PriceListInput(name, unit.id, today - timedelta(days=30), None)
        price_list = await save_price_list(actor=admin, price_list_id=None, form=form)
        await import_price_entries(actor=admin, price_list_id=price_list.id, text=text)

    models = {p.model: p.id for p in await Product.all()}
    li, xu, he = [await Staff.get(userid=u) for u in ("hengmei", "hengmeixu", "jiajia")]
    manager, factory = await Staff.get(userid="qudaojingli"), await Staff.get(userid="zhouchangzhang")

    async def order(member: Staff, lines: list[tuple[str, int]]) -> DealerOrder:
        draft = None
        for model, quantity in lines:
            draft = await add_to_cart(actor=member, product_id=models[model], quantity=quantity, order=draft)
        assert draft is not None
        return draft

    on_line = await order(li, [("K5", 2), ("S1", 1), ("DM-2026", 100)])  # the brochures leave stock at acceptance
    await submit(actor=li, order=on_line)
    await accept(actor=manager, order=on_line)
    pieces = await DealerPiece.filter(order_id=on_line.id).order_by("id")
    for piece, moves in zip(pieces, (1, 2, 3), strict=True):  # in production, finished, shipped
        for _ in range(moves):
            await move_numbered(actor=factory, number=piece.production_number)

    waiting = await order(xu, [("T120", 3), ("D70", 12), ("LS-01", 20)])  # the handles are reserved
    await submit(actor=xu, order=waiting)
    await order(li, [("M80", 2)])  # still in 李恒美's cart

    returned = await order(he, [("E2", 1), ("S3", 2)])
    await submit(actor=he, order=returned)
    await return_order(actor=manager, order=returned, reason="S3 本月停产，请改订 S1 或下月再订")
