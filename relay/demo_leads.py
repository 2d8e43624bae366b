"""The demo's showroom bookings (预约) at 上海徐汇店, booked and moved through the workflow: 顾文 serves a
customer, 林悦 has one waiting for her 领单, so the next booking waits in the store's queue for whoever is
free first; one more was queued and then cancelled (作废)."""

from __future__ import annotations

from datetime import time, timedelta

from infra.timeutil import local_moment, local_today
from models import Lead, LeadSource, LeadState, OrgUnit, Staff

STORE = "上海徐汇店"
STORE_ADDRESS = "上海市徐汇区漕溪北路 88 号 朗斯家居体验店"


async def seed_leads() -> None:
    from workflow.leads import LeadInput, create_lead, take

    store = await OrgUnit.get(name=STORE)
    await OrgUnit.filter(id=store.id).update(address=STORE_ADDRESS)
    store = await OrgUnit.get(id=store.id)
    reception = await Staff.get(userid="fangqiantai")
    guwen, linyue = await Staff.get(userid="guwen"), await Staff.get(userid="linyue")
    at = local_moment(local_today() + timedelta(days=1), time(14, 0))

    async def book(name: str, phone: str, products: str, level: str = "中") -> Lead:
        data = LeadInput(name=name, phone=phone, need_level=level, products=products, wanted_at=at)
        return await create_lead(actor=reception, store=store, data=data, source=LeadSource.STAFF)

    serving = await book("郑女士", "13700004444", "定制衣柜", "高")  # to 顾文: he serves her
    await take(guwen, serving, "claim")
    waiting = await book("周女士", "13700002222", "淋浴房 K5", "高")  # to 林悦: waiting for 领单
    queued = await book("王先生", "13700005555", "门窗", "低")  # nobody free: the store's queue
    void = await book("马先生", "13700001111", "淋浴房")  # queued too, then cancelled by phone
    await take(reception, void, "void", reason="客户来电取消")
    assert (serving.consultant_id, waiting.consultant_id) == (guwen.id, linyue.id), "demo leads went elsewhere"
    assert (await Lead.get(id=queued.id)).state == LeadState.NEW
