"""`relay demo`: Relay, a local WeCom and its chat console on one machine, with seeded data."""

from __future__ import annotations

import asyncio
import csv
import logging
from datetime import timedelta
from importlib import resources
from pathlib import Path

from aiohttp import web

from emulator import EmulatorConfig, EmulatorUser
from emulator import create_app as create_emulator
from models import Order, Product, Role, Staff
from relay.app import init_app
from relay.config import Config, load_config
from relay.db import migrate
from relay.timeutil import local_today

log = logging.getLogger(__name__)

# Demo-only values: they open nothing real, and load_config never uses them outside demo mode.
DEMO_WECOM = {
    "corp_id": "wwrelaydemo000001",
    "agent_id": 1000002,
    "secret": "relay-demo-secret",
    "token": "relaydemotoken",
    "encoding_aes_key": "yzdVHGx2Cmn+vM6vIOFmsGZySdXRPIiGZ/bQDmObQbU",
}
DEMO_SECURITY = {"secret_key": "relay-demo-session-key", "pii_key": "relay-demo-pii-key"}


def demo_data(name: str) -> str:
    return resources.files("relay").joinpath("demo_data", name).read_text(encoding="utf-8")


def demo_config(*, data_dir: Path, port: int, emulator_port: int, host: str = "127.0.0.1") -> Config:
    relay_url = f"http://{host}:{port}"
    emulator_url = f"http://{host}:{emulator_port}"
    base = load_config(None, demo=True)
    return base.replace(
        server={"host": host, "port": port, "public_url": relay_url},
        database={"url": f"sqlite://{data_dir / 'relay.sqlite3'}"},
        wecom={
            **DEMO_WECOM,
            "api_base": f"{emulator_url}/cgi-bin/",
            "oauth_url": f"{emulator_url}/connect/oauth2/authorize",
        },
        storage={"path": str(data_dir / "files")},
        security=DEMO_SECURITY,
    )


def emulator_config(config: Config, *, emulator_url: str, staff_csv: str) -> EmulatorConfig:
    users = tuple(
        EmulatorUser(
            userid=row["userid"],
            name=row["name"],
            department=[1],
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
        public_url=emulator_url,
    )


async def seed(*, with_orders: bool = True) -> None:
    """Staff for every role, a catalogue and a few orders at different stages, through the workflow."""
    from models import TaskKind
    from workflow.admin import import_products, import_staff
    from workflow.orders import ItemInput, create_order
    from workflow.tasks import answer_task, dispatch_task

    if await Staff.exists():
        return
    await import_staff(demo_data("staff.csv"))
    await import_products(demo_data("products.csv"))
    if not with_orders:
        return
    sales = await Staff.get(userid="zhangxiaoshou")
    dispatcher = await Staff.get(userid="zhaopaidan")
    measurer = await Staff.get(userid="sunceliang")
    products = {p.model: p for p in await Product.all()}
    today = local_today()
    orders = [
        (
            "LS20261101",
            "黄女士",
            "13812345678",
            "上海市徐汇区漕溪北路 88 弄 3 号 1201",
            [("主卫", "K5"), ("客卫", "S1")],
        ),
        ("LS20261102", "林先生", "13998765432", "上海市徐汇区天钥桥路 500 号 6 栋 803", [("主卫", "E2")]),
        (
            "LS20261103",
            "何女士",
            "13700001111",
            "上海市徐汇区虹梅路 1800 弄 12 号 502",
            [("阳台", "D70"), ("主卧", "Y2")],
        ),
    ]
    created = []
    for number, name, phone, address, items in orders:
        created.append(
            await create_order(
                actor=sales,
                number=number,
                customer_name=name,
                phone=phone,
                address=address,
                items=[ItemInput(product_id=products[m].id, room=room) for room, m in items],
                expected_measure_date=today + timedelta(days=2),
            )
        )
    # One order already dispatched and accepted, so the measurer has photos to send.
    task = await dispatch_task(
        actor=dispatcher, order=created[1], kind=TaskKind.MEASURE, worker_id=measurer.id, day=today + timedelta(days=1)
    )
    await answer_task(actor=measurer, task_id=task.id, accept=True)
    log.info("seeded %d orders", await Order.all().count())


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
    for runner in runners:
        await runner.setup()
    await web.TCPSite(runners[0], host, emulator_port).start()
    await web.TCPSite(runners[1], host, port).start()
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
