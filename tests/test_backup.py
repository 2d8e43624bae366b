"""Backup and restore: `relay backup` of a live Relay (orders with photos, a signature, an invoice's PDF) restored
by `relay restore` into a fresh database and file root, where a `relay serve` on the restored copy shows every
order, file and signature; retention; the refusal to restore over data; a backup taken while photos arrive;
the nightly job; a backup from an older schema brought up to date on restore."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import sqlite3
import sys
from datetime import time
from pathlib import Path
from typing import Any, cast

import aiohttp
import asyncpg
from aiohttp.test_utils import unused_port
from PIL import Image, ImageDraw

from infra.backup_target import MANIFEST, DirectoryTarget
from infra.runtime import runtime
from infra.timeutil import local_moment, local_today, utcnow
from models import Attachment, AttachmentCategory, Invoice, Job, MessageState, Order, OrderState, Signature
from models.stored_files import REFERENCED_FILES
from scheduler.jobs import Scheduler
from scheduler.plan import HANDLERS, plan_recurring
from tests.processes import ROOT, child_env, relay_run
from tests.support import SECRETS, World, fresh_database, jpeg, start_world
from tests.test_permissions import at_state, new_order
from tests.test_restart import RelayProcess
from webviews.auth import SESSION_COOKIE, session_value
from workflow.attachments import attach
from workflow.backup import BACKUP, backup_now
from workflow.finance import InvoiceInput, issue_invoice
from workflow.receipts import receipt_for
from workflow.signing import signing_token, submit_signature

MANAGER, FINANCE = "wangzong", "qiankuaiji"


def ink() -> bytes:
    img = Image.new("RGBA", (300, 150), (0, 0, 0, 0))
    ImageDraw.Draw(img).line([(20, 20), (280, 130), (40, 120)], fill=(0, 0, 0, 255), width=6)
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def write_config(
    folder: Path,
    *,
    database_url: str,
    port: int = 8080,
    files: Path | None = None,
    backup: Path | str | None = None,
    keep: int = 14,
    storage: dict[str, Any] | None = None,
) -> Path:
    """A config file of its own per Relay (database, file root or bucket), as an operator writes one."""
    wecom = cast(dict[str, Any], SECRETS["wecom"])
    security = cast(dict[str, Any], SECRETS["security"])
    folder.mkdir(parents=True, exist_ok=True)
    storage = storage or {"path": str(files or folder / "files")}
    path = folder / "relay.toml"
    path.write_text(
        f"""
[server]
port = {port}
public_url = "http://127.0.0.1:{port}"
background = false

[database]
url = "{database_url}"

[wecom]
corp_id = "{wecom["corp_id"]}"
agent_id = {wecom["agent_id"]}
secret = "{wecom["secret"]}"
token = "{wecom["token"]}"
encoding_aes_key = "{wecom["encoding_aes_key"]}"

[storage]
{chr(10).join(f"{key} = {json.dumps(value)}" for key, value in storage.items())}

[security]
secret_key = "{security["secret_key"]}"
pii_key = "{security["pii_key"]}"

[backup]
path = "{backup or ""}"
keep = {keep}
""",
        encoding="utf-8",
    )
    return path


async def relay(config: Path, *args: str) -> tuple[int, str]:
    """The `relay` command in a process of its own (tests/processes.py): its exit code and what it printed."""
    return await relay_run(config, *args, log=config.with_suffix(".log"))


def stored_path(root: Path, sha256: str) -> Path:
    return root / "files" / sha256[:2] / sha256


async def seed_company(world: World) -> dict[str, Any]:
    """Orders at several stages through the real workflow: site, design and install photos, the customer's
    signature, and an invoice whose file is the order's receipt PDF."""
    signed = await at_state("BK-SIGNED", OrderState.INSTALLED)
    await submit_signature(token=signing_token(signed), png=ink(), ip="10.1.2.3", user_agent="backup-test")
    money = await at_state("BK-MONEY", OrderState.CONFIRMED)
    finance = await world.staff(FINANCE)
    _, receipt = await receipt_for(finance, money)
    stored = await runtime().files.put_document(receipt)
    await issue_invoice(
        actor=finance,
        order=money,
        form=InvoiceInput("04400001", "1000.00", "", "91310000MA1FL8XQ30"),
        stored=stored,
        filename="发票.pdf",
    )
    await new_order("BK-NEW")
    return {"receipt": receipt}


async def test_a_backup_restores_into_a_fresh_database_with_every_order_file_and_signature(
    world: World, tmp_path: Path
) -> None:
    seeded = await seed_company(world)
    orders = sorted(await Order.all().values_list("number", flat=True))
    attachments = await Attachment.all().order_by("id")
    signature = await Signature.get(order__number="BK-SIGNED").prefetch_related("attachment")
    invoice = await Invoice.get(order__number="BK-MONEY")
    files_root = Path(world.config.storage.path)
    assert len(attachments) >= 9 and invoice.file_sha256  # 3 + 2 + 2 photos, a design, the signature

    # `relay backup` on the live system's config (its file root is the world's).
    backups = tmp_path / "backups"
    live = write_config(tmp_path / "live", database_url=world.config.database.url, files=files_root, backup=backups)
    code, out = await relay(live, "backup")
    assert code == 0 and "备份完成" in out, out
    (name,) = await DirectoryTarget(backups).names()
    manifest = json.loads((backups / name / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["database"]["rows"]["order"] == len(orders)
    assert manifest["database"]["migration_head"] == sorted(manifest["database"]["migrations"])[-1]
    paths = {f["path"] for f in manifest["files"]}
    assert {f"files/{a.sha256[:2]}/{a.sha256}" for a in attachments} <= paths

    async with fresh_database(world.config.database.url, tmp_path) as restored_url:
        port = unused_port()
        restored = write_config(tmp_path / "restored", database_url=restored_url, port=port)
        code, out = await relay(restored, "restore", str(backups / name))
        assert code == 0 and f"恢复完成：{name}（订单 {len(orders)} 个" in out, out
        restored_root = tmp_path / "restored" / "files"
        for a in attachments:
            assert stored_path(restored_root, a.sha256).read_bytes() == stored_path(files_root, a.sha256).read_bytes()

        # The restored copy, served: every order, photo, the signature and the invoice's PDF are there.
        server = RelayProcess(restored, port, tmp_path / "serve.log")
        await server.start()
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession(cookies={SESSION_COOKIE: session_value(MANAGER)}) as http:
                for number in orders:
                    async with http.get(f"{base}/h5/orders/{number}") as resp:
                        assert resp.status == 200 and number in await resp.text()
                for a in attachments:
                    async with http.get(f"{base}/h5/files/{a.id}") as resp:
                        assert resp.status == 200, a.category
                        assert await resp.read() == stored_path(files_root, a.sha256).read_bytes()
                async with http.get(f"{base}/h5/files/{signature.attachment.id}") as resp:
                    assert await resp.read() == stored_path(files_root, signature.attachment.sha256).read_bytes()
            async with aiohttp.ClientSession(cookies={SESSION_COOKIE: session_value(FINANCE)}) as http:
                async with http.get(f"{base}/h5/orders/BK-MONEY/invoices/{invoice.id}/file") as resp:
                    assert resp.status == 200 and await resp.read() == seeded["receipt"]
                async with http.get(f"{base}/h5/orders/BK-MONEY/receipt.pdf") as resp:
                    assert resp.status == 200 and (await resp.read()).startswith(b"%PDF-")
        finally:
            await server.stop()
        assert signature.attachment.category == AttachmentCategory.SIGNATURE
        # Restored once, the database holds data: a second restore needs --force, and then replaces it.
        code, out = await relay(restored, "restore", str(backups / name))
        assert code == 1 and "目标数据库已有数据" in out, out
        code, out = await relay(restored, "restore", str(backups / name), "--force")
        assert code == 0 and f"恢复完成：{name}（订单 {len(orders)} 个，复制文件 0 个）" in out, out


async def test_retention_keeps_the_newest_and_restore_refuses_a_database_with_data(
    world: World, tmp_path: Path
) -> None:
    await at_state("BK-KEEP", OrderState.MEASURED)
    backups = tmp_path / "backups"
    config = world.config.replace(backup={"path": str(backups), "keep": 2})
    taken = [await backup_now(config) for _ in range(3)]
    assert await DirectoryTarget(backups).names() == [taken[1].name, taken[2].name]
    assert taken[2].removed == [taken[0].name]
    # An unchanged photo is shared between nightly backups, not stored again.
    photo = next(f["path"] for f in taken[2].manifest["files"] if f["path"].startswith("files/"))
    assert (backups / taken[2].name / photo).stat().st_ino == (backups / taken[1].name / photo).stat().st_ino

    # Restoring over the live database (it holds orders) is refused and changes nothing.
    live = write_config(tmp_path / "live", database_url=world.config.database.url)
    before = await Order.all().count()
    code, out = await relay(live, "restore", str(backups / taken[2].name))
    assert code == 1 and "目标数据库已有数据" in out and "--force" in out, out
    assert await Order.all().count() == before
    code, out = await relay(live, "restore", str(backups / "relay-nothing"))
    assert code == 1 and "找不到备份" in out, out


async def test_a_backup_taken_while_photos_arrive_holds_every_file_its_rows_refer_to(
    world: World, tmp_path: Path
) -> None:
    order = await at_state("BK-BUSY", OrderState.MEASURED)
    installer = await world.staff("chenanzhuang")
    done, some = asyncio.Event(), asyncio.Event()
    added = 0

    async def photos_keep_coming() -> None:
        nonlocal added
        while not done.is_set():
            stored = await runtime().files.put_image(jpeg(color=(added % 256, 90, 200)))
            await attach(order, stored, category=AttachmentCategory.UNSORTED, uploader=installer)
            added += 1
            if added == 3:
                some.set()
            await asyncio.sleep(0)

    writer = asyncio.create_task(photos_keep_coming())
    try:
        # (a writer that fails ends the wait too, and its error is raised below)
        await asyncio.wait([writer, asyncio.create_task(some.wait())], return_when=asyncio.FIRST_COMPLETED)
        assert not writer.done(), writer.exception()
        taken = await backup_now(world.config.replace(backup={"path": str(tmp_path / "backups")}))
        done.set()
        await writer
    finally:
        done.set()
        writer.cancel()
    paths = {f["path"] for f in taken.manifest["files"]}
    async with fresh_database(world.config.database.url, tmp_path) as restored_url:
        restored = write_config(tmp_path / "restored", database_url=restored_url)
        code, out = await relay(restored, "restore", taken.where)
        assert code == 0, out
        referenced = await referenced_files(restored_url)
    rows = taken.manifest["database"]["rows"]["attachment"]
    assert referenced and referenced <= paths, referenced - paths
    assert 0 < rows < await Attachment.all().count()  # photos came after the snapshot: not in this backup


async def referenced_files(database_url: str) -> set[str]:
    if database_url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite://"))) as conn:
            return {r[0] for r in conn.execute(REFERENCED_FILES)}
    conn = await asyncpg.connect(database_url)
    try:
        return {r[0] for r in await conn.fetch(REFERENCED_FILES)}
    finally:
        await conn.close()


async def test_the_worker_backs_up_once_a_night(database: str, redis_url: str, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    async with start_world(
        database_url=database,
        redis_url=redis_url,
        storage=tmp_path / "files",
        extra={"backup": {"path": str(backups), "keep": 3, "hour": 2}},
    ):
        await new_order("BK-NIGHT")
        night = local_moment(local_today(), time(2, 30))
        for _ in range(2):  # two workers planning the same night
            await plan_recurring(night)
        job = await Job.get(kind=BACKUP)
        assert job.key.endswith(local_today().isoformat()) and job.due_at == local_moment(local_today(), time(2))
        await Job.filter(kind=BACKUP).update(due_at=utcnow())  # the night has come
        await Scheduler(HANDLERS).run_due()
        job = await Job.get(kind=BACKUP)
        assert job.state == MessageState.DONE, job.last_error
        (name,) = await DirectoryTarget(backups).names()
        manifest = json.loads((backups / name / MANIFEST).read_text(encoding="utf-8"))
        assert manifest["database"]["rows"]["order"] == 1


async def test_a_backup_from_an_older_schema_is_migrated_on_restore(database: str, tmp_path: Path) -> None:
    async with fresh_database(database, tmp_path / "old") as old_url:
        (tmp_path / "old").mkdir(exist_ok=True)
        old = write_config(tmp_path / "old", database_url=old_url, backup=tmp_path / "backups")
        migrate_to = (
            "import asyncio, gc, sys\n"
            "gc.set_threshold(100_000, 50, 100)  # as in the tests' own process (tests/conftest.py)\n"
            "from tortoise import Tortoise\n"
            "from tortoise.migrations.api import migrate\n"
            "from relay.db import tortoise_config\n"
            "async def main():\n"
            "    await migrate(config=tortoise_config(sys.argv[1]), target='models.0021_customer_contact')\n"
            "    await Tortoise.close_connections()\n"
            "asyncio.run(main())\n"
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", migrate_to, old_url, cwd=ROOT, env=child_env()
        )
        assert await asyncio.wait_for(proc.wait(), 120) == 0
        code, out = await relay(old, "backup")
        assert code == 0, out
        (name,) = await DirectoryTarget(tmp_path / "backups").names()
        async with fresh_database(database, tmp_path / "new") as new_url:
            (tmp_path / "new").mkdir(exist_ok=True)
            new = write_config(tmp_path / "new", database_url=new_url)
            code, out = await relay(new, "restore", str(tmp_path / "backups" / name))
            assert code == 0 and "已升级数据库：0022_tickets" in out, out
            # The restored database has the newer migration's table.
            assert "ticket" in await tables(new_url)


async def tables(database_url: str) -> set[str]:
    if database_url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite://"))) as conn:
            return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn = await asyncpg.connect(database_url)
    try:
        return {r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    finally:
        await conn.close()
