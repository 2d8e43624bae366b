"""`relay demo`: Relay, a local WeCom and its chat console on one machine, with seeded data."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path

from aiohttp import web
from PIL import Image, ImageDraw

from emulator import EmulatorConfig, EmulatorDepartment, EmulatorUser
from emulator import create_app as create_emulator
from infra.config import Config
from infra.timeutil import local_today, utcnow
from models import Order, OrderItem, OrderState, Payment, PriceList, Product, Role, Staff
from relay.app import init_app
from relay.config import DEMO_SECURITY, load_config
from relay.db import migrate
from relay.demo_customer import seed_customer_requests
from relay.demo_tickets import seed_tickets
from scheduler.plan import ALERT_SCAN
from workflow.jobs import schedule

log = logging.getLogger(__name__)

# Demo-only values: they open nothing real, and load_config never uses them outside demo mode.
DEMO_WECOM = {
    "corp_id": "wwrelaydemo000001",
    "agent_id": 1000002,
    "secret": "relay-demo-secret",
    "token": "relaydemotoken",
    "encoding_aes_key": "yzdVHGx2Cmn+vM6vIOFmsGZySdXRPIiGZ/bQDmObQbU",
}


def demo_data(name: str) -> str:
    return resources.files("relay").joinpath("demo_data", name).read_text(encoding="utf-8")


def demo_config(*, data_dir: Path, port: int, emulator_port: int, host: str = "127.0.0.1") -> Config:
    relay_url = f"http://{host}:{port}"
    emulator_url = f"http://{host}:{emulator_port}"
    base = load_config(None, demo=True)
    return base.replace(
        server={"host": host, "port": port, "public_url": relay_url, "frame_ancestors": emulator_url},
        database={"url": f"sqlite://{data_dir / 'relay.sqlite3'}"},
        wecom={
            **DEMO_WECOM,
            "api_base": f"{emulator_url}/cgi-bin/",
            "oauth_url": f"{emulator_url}/connect/oauth2/authorize",
        },
        storage={"path": str(data_dir / "files")},
        # Every member of the demo signs in from this one machine's address.
        security={**DEMO_SECURITY, "oauth_per_minute": 1000},
        # The emulator's directory is the demo's staff file: members added or removed in its console
        # reach Relay as WeCom's change events do.
        directory={"enabled": True},
    )


def directory_of(staff_csv: str) -> tuple[EmulatorDepartment, ...]:
    """The WeCom departments the staff file's units are: the company is department 1, the others
    numbered in the order the file first names them, each under its parent."""
    ids: dict[str, int] = {}
    departments = []
    for row in csv.DictReader(staff_csv.splitlines()):
        names = [n for n in row["org_unit"].split("/") if n]
        for depth in range(1, len(names) + 1):
            path = "/".join(names[:depth])
            if path not in ids:
                ids[path] = len(ids) + 1
                parent = ids.get("/".join(names[: depth - 1]), 0)
                departments.append(EmulatorDepartment(id=ids[path], name=names[depth - 1], parentid=parent))
    return tuple(departments)


def emulator_config(config: Config, *, emulator_url: str, staff_csv: str) -> EmulatorConfig:
    departments = directory_of(staff_csv)
    by_path: dict[str, int] = {}
    for dept in departments:
        parent = next((p for p, i in by_path.items() if i == dept.parentid), "")
        by_path[f"{parent}/{dept.name}" if parent else dept.name] = dept.id
    users = tuple(
        EmulatorUser(
            userid=row["userid"],
            name=row["name"],
            department=[by_path[row["org_unit"].strip("/")]],
            position=" / ".join(Role(r).label for r in row["roles"].split(";") if r),
        )
        for row in csv.DictReader(staff_csv.splitlines())
    )
    return EmulatorConfig(
        corp_id=config.wecom.corp_id,
        corp_secret=config.wecom.secret,
        agent_id=config.wecom.agent_id,
        token=config.wecom.token,
        encoding_aes_key=config.wecom.encoding_aes_key,
        callback_url=config.server.public_url + "/wecom/callback",
        users=users,
        departments=departments,
        public_url=emulator_url,
        # Salespeople have customer contact (客户联系): their customers add them through 「联系我」.
        customer_contact=tuple(
            row["userid"] for row in csv.DictReader(staff_csv.splitlines()) if "sales" in row["roles"].split(";")
        ),
    )


DEMO_ORDERS = [
    # number, customer, phone, address, [(room, model)], the stage the demo starts it at
    (
        "LS20261101",
        "黄女士",
        "13812345678",
        "上海市徐汇区漕溪北路 88 弄 3 号 1201",
        [("主卫", "K5"), ("客卫", "S1")],
        OrderState.CREATED,
    ),
    (
        "LS20261102",
        "林先生",
        "13998765432",
        "上海市徐汇区天钥桥路 500 号 6 栋 803",
        [("主卫", "E2")],
        OrderState.MEASURE_SCHEDULED,
    ),
    (
        "LS20261103",
        "何女士",
        "13700001111",
        "上海市徐汇区虹梅路 1800 弄 12 号 502",
        [("阳台", "D70"), ("主卧", "Y2")],
        OrderState.MEASURED,
    ),
    (
        "LS20261104",
        "陈先生",
        "13611112222",
        "上海市徐汇区宜山路 700 号 2 号楼 1603",
        [("主卫", "S3")],
        OrderState.DESIGNED,
    ),
    (
        "LS20261105",
        "刘女士",
        "13522223333",
        "上海市徐汇区龙华中路 600 号 9 号楼 402",
        [("主卫", "K5"), ("主卫", "M80")],
        OrderState.CONFIRMED,
    ),
    (
        "LS20261106",
        "赵先生",
        "13433334444",
        "上海市徐汇区斜土路 2200 号 3 号楼 1101",
        [("客厅", "T120")],
        OrderState.IN_STOCK,
    ),
    (
        "LS20261107",
        "孙女士",
        "13344445555",
        "上海市徐汇区田林路 140 号 5 号楼 702",
        [("主卫", "S1")],
        OrderState.INSTALLED,
    ),
]


def demo_photo(label: int) -> bytes:
    """A recognisable stand-in for a site or install photo."""
    hue = (label * 47) % 255
    img = Image.new("RGB", (960, 720), (hue, 180, 255 - hue))
    draw = ImageDraw.Draw(img)
    for i in range(0, 960, 60):
        draw.line([(i, 0), (i + 200, 720)], fill=(255, 255, 255), width=3)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


async def advance(order: Order, target: OrderState, *, day: date) -> Order:
    """Walk an order through the real workflow to `target`, as the demo's staff would."""
    from infra.runtime import runtime
    from models import AttachmentCategory, OrderPiece, PaymentKind, PaymentMethod, TaskKind
    from workflow.design import add_design, finish_design
    from workflow.goods import receive_pieces
    from workflow.install import add_install_photo, finish_install
    from workflow.measure import add_site_photo, categorize_photo, finish_measure
    from workflow.payments import confirm_design
    from workflow.tasks import answer_task, dispatch_task

    staff = {s.userid: s for s in await Staff.all()}
    steps = list(OrderState)
    if steps.index(target) >= steps.index(OrderState.MEASURE_SCHEDULED):
        task = await dispatch_task(
            actor=staff["zhaopaidan"], order=order, kind=TaskKind.MEASURE, worker_id=staff["sunceliang"].id, day=day
        )
        await answer_task(actor=staff["sunceliang"], task_id=task.id, accept=True)
    if steps.index(target) >= steps.index(OrderState.MEASURED):
        for i, category in enumerate((AttachmentCategory.PLUMBING_ELECTRICAL, AttachmentCategory.WALLS_FLOORS)):
            stored = await runtime().files.put_image(demo_photo(order.id * 10 + i))
            photo = await add_site_photo(actor=staff["sunceliang"], order=order, stored=stored, media_id=None)
            await categorize_photo(actor=staff["sunceliang"], attachment_id=photo.id, category=category)
        await finish_measure(actor=staff["sunceliang"], order=order)
    if steps.index(target) >= steps.index(OrderState.DESIGNED):
        stored = await runtime().files.put_image(demo_photo(order.id * 10 + 5))
        await add_design(actor=staff["zhengsheji"], order=order, stored=stored, filename="效果图.jpg")
        await finish_design(actor=staff["zhengsheji"], order=await Order.get(id=order.id))
    if steps.index(target) >= steps.index(OrderState.CONFIRMED):
        await confirm_design(
            actor=staff["zhangxiaoshou"],
            order=await Order.get(id=order.id),
            contract_amount=Decimal("12800"),
            first_payment=Decimal("3000"),
            method=PaymentMethod.WECHAT,
            kind=PaymentKind.DEPOSIT,
        )
    if steps.index(target) >= steps.index(OrderState.IN_STOCK):
        pieces = await OrderPiece.filter(order_id=order.id).order_by("id")
        await receive_pieces(
            actor=staff["fengcangku"],
            order=await Order.get(id=order.id),
            numbers={p.id: f"P{order.number[-4:]}-{p.id:03d}" for p in pieces},
        )
    if steps.index(target) >= steps.index(OrderState.INSTALLED):
        task = await dispatch_task(
            actor=staff["zhaopaidan"],
            order=await Order.get(id=order.id),
            kind=TaskKind.INSTALL,
            worker_id=staff["chenanzhuang"].id,
            day=day,
        )
        await answer_task(actor=staff["chenanzhuang"], task_id=task.id, accept=True)
        for i in range(2):
            stored = await runtime().files.put_image(demo_photo(order.id * 10 + 7 + i))
            await add_install_photo(actor=staff["chenanzhuang"], order=order, stored=stored, media_id=None)
        await finish_install(actor=staff["chenanzhuang"], order=await Order.get(id=order.id))
    return await Order.get(id=order.id)


async def seed(*, with_orders: bool = True) -> None:
    """Staff for every role, a catalogue and orders at every stage, made through the workflow."""
    from relay.demo_contact import seed_contact
    from workflow.admin import import_products, import_staff

    if await Staff.exists():
        return
    await import_staff(demo_data("staff.csv"))
    await import_products(demo_data("products.csv"))
    await import_products(demo_data("stock_products.csv"))
    await seed_stock()
    if with_orders:
        await seed_orders()
        await seed_dealers()  # after the stock: their orders reserve and issue stocked lines
        await seed_leads()
        await seed_contact()  # 客户联系: 张晓燕's 「联系我」 code for an order (relay/demo_contact.py)
    else:
        await seed_prices()
    await seed_news()


async def seed_news() -> None:
    from relay.demo_news import seed_news as seed

    await seed(demo_data("prices_company.csv"))


async def seed_stock() -> None:
    from relay.demo_stock import seed_stock as seed

    await seed()


async def seed_leads() -> None:
    from relay.demo_leads import seed_leads as seed

    await seed()


async def seed_dealers() -> None:
    from relay.demo_dealers import seed_dealers as seed

    await seed()


async def seed_prices() -> None:
    """A company price list and a store's promotion (上海徐汇店 sells K5 and S1 for less this quarter)."""
    from workflow.admin import ensure_unit, import_price_entries
    from workflow.catalog import PriceListInput, save_price_list

    admin = await Staff.get(userid="wangzong")
    today = local_today()
    store = await ensure_unit("朗斯家居/华东区/上海徐汇店")
    for form, prices in (
        (PriceListInput("全公司价目表 2026", None, today - timedelta(days=90), None), "prices_company.csv"),
        (
            PriceListInput("徐汇店 季度促销", store.id, today - timedelta(days=7), today + timedelta(days=60)),
            "prices_xuhui.csv",
        ),
    ):
        price_list = await save_price_list(actor=admin, price_list_id=None, form=form)
        await import_price_entries(actor=admin, price_list_id=price_list.id, text=demo_data(prices))


async def seed_discount() -> None:
    """Sales gives 陈先生 20 % off his shower and 200 元 off the order before he confirms: beyond the
    15 % that needs a review (审核), so it waits for 陈店长, the store's manager, then 刘经理."""
    from workflow.items import edit_prices
    from workflow.pricing import LinePrice

    order = await Order.get(number="LS20261104")
    line = await OrderItem.filter(order_id=order.id).order_by("id").first()
    if line is None or line.unit_price is None:
        return
    await edit_prices(
        actor=await Staff.get(userid="zhangxiaoshou"),
        order=order,
        lines={line.id: LinePrice(discount_pct=Decimal("20"))},
        order_discount=Decimal("200"),
    )


async def seed_orders() -> None:
    """The demo's orders, one at each stage, walked there through the workflow by the demo's staff."""
    from workflow.orders import ItemInput, create_order

    sales = await Staff.get(userid="zhangxiaoshou")
    products = {p.model: p for p in await Product.all()}
    today = local_today()
    if not await PriceList.exists():
        await seed_prices()
    for number, name, phone, address, items, stage in DEMO_ORDERS:
        order = await create_order(
            actor=sales,
            number=number,
            customer_name=name,
            phone=phone,
            address=address,
            items=[ItemInput(product_id=products[m].id, room=room) for room, m in items],
            expected_measure_date=today + timedelta(days=2),
        )
        await advance(order, stage, day=today + timedelta(days=1))
    # Two orders have waited too long, so the managers' alerts (预警) have something to show.
    waited = utcnow() - timedelta(hours=30)
    await Order.filter(number="LS20261101").update(created_at=waited, state_since=waited)
    # The installed one: every stage five weeks earlier (so the averages stay true), its balance now
    # overdue (alerts.balance_overdue_days) for finance to chase.
    late = await Order.get(number="LS20261107")
    shift = timedelta(days=35)
    stamps = ("created_at", "measured_at", "designed_at", "confirmed_at", "in_stock_at", "installed_at", "state_since")
    await Order.filter(id=late.id).update(**{f: getattr(late, f) - shift for f in stamps if getattr(late, f)})
    await seed_discount()
    # Finance (钱会计) has confirmed one deposit; the others wait for 确认到账.
    from workflow.finance import confirm_payment

    paid = await Order.get(number="LS20261106")
    deposit = await Payment.filter(order_id=paid.id).first()
    if deposit is not None:
        await confirm_payment(actor=await Staff.get(userid="qiankuaiji"), order=paid, payment_id=deposit.id)
    await seed_production(products, today)
    await seed_customer_requests()
    await seed_tickets(demo_photo(9001))
    await schedule(ALERT_SCAN, f"{ALERT_SCAN}:demo-seed", utcnow())
    log.info("seeded %d orders", await Order.all().count())


PRODUCTION_ORDERS = [
    # number, customer, phone, address, [(room, model, quantity)], where the factory has got to
    ("LS20261121", "邓先生", "13633334444", "上海市徐汇区田林路 200 号 5 号楼 301", [("阳台", "D70", 3)], "line"),
    (
        "LS20261122",
        "曹女士",
        "13544445555",
        "上海市徐汇区钦州北路 99 弄 8 号 602",
        [("主卫", "K5", 1), ("客厅", "D70", 2)],
        "yard",
    ),
]


async def seed_production(products: dict[str, Product], today: date) -> None:
    """Two orders released to the factory (their deposits confirmed): one on the line with a piece in
    each of its first states and one of them late, one with pieces shipped and in the warehouse."""
    from models import OrderPiece, Payment
    from workflow.goods import receive_pieces
    from workflow.orders import ItemInput, create_order
    from workflow.production import move_piece, release_if_ready

    staff = {s.userid: s for s in await Staff.all()}
    factory, finance = staff["zhouchangzhang"], staff["qiankuaiji"]
    for number, name, phone, address, items, where in PRODUCTION_ORDERS:
        order = await create_order(
            actor=staff["zhangxiaoshou"],
            number=number,
            customer_name=name,
            phone=phone,
            address=address,
            items=[ItemInput(product_id=products[m].id, room=room, quantity=q) for room, m, q in items],
            expected_measure_date=today + timedelta(days=2),
        )
        order = await advance(order, OrderState.CONFIRMED, day=today + timedelta(days=1))
        # Finance confirmed the deposit (the finance pages confirm it; the demo writes it as done).
        await Payment.filter(order_id=order.id).update(confirmed_at=utcnow(), confirmed_by_id=finance.id)
        await release_if_ready(order)
        pieces = await OrderPiece.filter(order_id=order.id).order_by("item_id", "seq")
        if where == "line":
            # queued, in production (late: its date has passed), finished
            await move_piece(actor=factory, piece=pieces[1])
            await OrderPiece.filter(id=pieces[1].id).update(expected_date=today - timedelta(days=2))
            for _ in range(2):
                await move_piece(actor=factory, piece=pieces[2])
        else:
            # shipped, shipped, and one already in the warehouse
            for piece in pieces:
                for _ in range(3):
                    await move_piece(actor=factory, piece=piece)
            first = pieces[0]
            await receive_pieces(
                actor=staff["fengcangku"], order=order, numbers={first.id: first.production_number or ""}
            )


async def run_demo(*, data_dir: Path, port: int, emulator_port: int, host: str = "127.0.0.1") -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    config = demo_config(data_dir=data_dir, port=port, emulator_port=emulator_port, host=host)
    await migrate(config.database.url)
    emulator_url = f"http://{host}:{emulator_port}"
    emulator_app = create_emulator(emulator_config(config, emulator_url=emulator_url, staff_csv=demo_data("staff.csv")))
    relay_app = init_app(config)

    async def seed_on_start(app: web.Application) -> None:
        await seed()

    relay_app.on_startup.append(seed_on_start)
    runners = [web.AppRunner(emulator_app, access_log=None), web.AppRunner(relay_app, access_log=None)]
    # The local WeCom first: Relay starts sending the seeded orders' cards as soon as it is up.
    for runner, listen in zip(runners, (emulator_port, port), strict=True):
        await runner.setup()
        await web.TCPSite(runner, host, listen).start()
    print(
        f"\n  接力 Relay demo is running.\n"
        f"  Chat console (a local WeCom):  {emulator_url}/\n"
        f"  Relay:                          http://{host}:{port}/healthz\n"
        f"  Data: {data_dir} (delete it to start over). Ctrl+C stops.\n",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        for runner in reversed(runners):
            await runner.cleanup()
