"""The demo's showroom bookings (预约) at 上海徐汇店, booked and moved through the workflow: 顾文 serves
one customer and has another waiting for 领单, 林悦's customer is in the store, and one booking waits in
the queue for whoever is free next; one earlier booking was cancelled (作废)."""

from __future__ import annotations

from datetime import timedelta

from infra.timeutil import local_moment, local_today
from models import Lead, LeadSource, OrgUnit, Staff

STORE = "上海徐汇店"
STORE_ADDRESS = "上海市徐汇区漕溪北路 88 号 朗斯家居体验店"


async def seed_leads() -> None:
    from workflow.leads import LeadInput, create_lead, take

    store = await OrgUnit.get(name=STORE)
    await OrgUnit.filter(id=store.id).update(address=STORE_ADDRESS)
    store = await OrgUnit.get(id=store.id)
    reception = await Staff.get(userid="fangqiantai")
    guwen, linyue = await Staff.get(userid="guwen"), await Staff.get(userid="linyue")
    at = local_moment(local_today() + timedelta(days=1), local_moment(local_today()).time().replace(hour=14))

    async def book(name: str, phone: str, products: str, level: str = "中") -> Lead:
        data = LeadInput(name=name, phone=phone, need_level=level, products=products, wanted_at=at)
        return await create_lead(actor=reception, store=store, data=data, source=LeadSource.STAFF)

    waiting = await book("周女士", "13700002222", "淋浴房 K5", "高")  # to 顾文, waiting for 领单
    arrived = await book("吴先生", "13700003333", "浴室柜")  # to 林悦: in the store
    await take(linyue, arrived, "claim")
    await take(linyue, arrived, "arrive")
    serving = await book("郑女士", "13700004444", "定制衣柜")  # to 顾文, being served
    await take(guwen, serving, "claim")
    void = await book("马先生", "13700001111", "淋浴房")  # nobody free: queued, then cancelled
    await take(reception, void, "void", reason="客户来电取消")
    await book("王先生", "13700005555", "门窗", "低")  # nobody free: queued
    assert waiting.consultant_id == guwen.id and serving.consultant_id == guwen.id, "demo leads went elsewhere"
