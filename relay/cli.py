"""The `relay` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import logging.handlers
import queue
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from relay.config import ConfigError, load_config

T = TypeVar("T")


def _config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    return load_config(args.config)


async def _serve(args: argparse.Namespace) -> None:
    from aiohttp import web

    from relay.access_log import RedactingAccessLogger
    from relay.app import init_app

    config = _config(args)
    runner = web.AppRunner(init_app(config), access_log_class=RedactingAccessLogger)
    await runner.setup()
    await web.TCPSite(runner, config.server.host, config.server.port).start()
    role = "with inbox, outbox and jobs" if config.server.background else "web only: `relay worker` does the rest"
    print(f"Relay listening on http://{config.server.host}:{config.server.port} ({role})", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def _worker(args: argparse.Namespace) -> None:
    from aiohttp import web

    from relay.app import running_services, worker_app

    config = _config(args)
    port = config.server.worker_port
    async with running_services(config):
        runner = web.AppRunner(worker_app(), access_log=None) if port else None
        if runner is not None:
            await runner.setup()
            await web.TCPSite(runner, config.server.host, port).start()
        where = f"; /healthz and /metrics on port {port}" if port else ""
        print(f"Relay worker running (inbox, outbox, scheduled jobs{where})", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            if runner is not None:
                await runner.cleanup()


async def _migrate(args: argparse.Namespace) -> None:
    from relay.db import migrate

    await migrate(_config(args).database.url)
    print("database is up to date")


async def _import(args: argparse.Namespace) -> None:
    from relay.db import close_db, open_db
    from workflow.admin import import_products, import_staff

    config = _config(args)
    text = Path(args.file).read_text(encoding="utf-8-sig")
    await open_db(config.database.url)
    try:
        result = await (import_staff(text) if args.what == "staff" else import_products(text))
    finally:
        await close_db()
    print(f"导入完成：新增 {result.created}，更新 {result.updated}")


async def _leads_import(args: argparse.Namespace) -> None:
    """Book the CSV's leads (and assign them); bad rows are reported by line and left out. The messages
    the bookings queue go out when a worker or the server runs."""
    from relay.app import running_services
    from workflow.leads import import_leads

    text = Path(args.file).read_text(encoding="utf-8-sig")
    async with running_services(_config(args), background=False):
        result = await import_leads(text, actor=None)
    print(
        f"导入完成：新增预约 {len(result.created)} 个" + (f"（{'、'.join(result.created)}）" if result.created else "")
    )
    for line in result.errors:
        print(line)


async def _demo(args: argparse.Namespace) -> None:
    from relay.demo import run_demo

    await run_demo(data_dir=Path(args.data), port=args.port, emulator_port=args.emulator_port, host=args.host)


async def _lifecycle(args: argparse.Namespace) -> None:
    from workflow.lifecycle_doc import documents

    print(documents(), end="")


async def _token(args: argparse.Namespace) -> None:
    from relay.db import close_db, open_db
    from workflow.tokens import create_token, revoke_token

    await open_db(_config(args).database.url)
    try:
        if args.action == "create":
            created = await create_token(actor=None, name=args.name, scopes=args.scope, acts_as=args.acts_as)
            print(f"令牌 {created.token.id}（{created.token.name}，{created.token.scopes}）已创建，只显示这一次：")
            print(created.secret)
        else:
            token = await revoke_token(actor=None, token_id=args.id)
            print(f"令牌 {token.id}（{token.name}）已吊销")
    finally:
        await close_db()


async def _files(args: argparse.Namespace) -> int:
    """Copy the local store (storage.path) into the bucket: run it before switching storage.backend to
    "s3" and once more after, for the files written in between. Nothing changes on disk without --delete."""
    from infra.bucket import Bucket, Disk, copy_to_bucket

    storage = _config(args).storage
    if not storage.bucket:
        raise ConfigError("storage.bucket is not set: name the bucket to copy the files into")
    bucket = Bucket(storage)
    try:
        done = await copy_to_bucket(Disk(storage.path), bucket, delete=args.delete)
    finally:
        await bucket.close()
    print(
        f"{storage.path} → {storage.bucket}: 复制 {done.copied} 个文件，"
        f"{done.already_there} 个已在存储桶中（核对一致），删除本地 {done.deleted} 个，失败 {len(done.failed)} 个"
    )
    for problem in done.failed:
        print(f"失败：{problem}", file=sys.stderr)
    return 1 if done.failed else 0


async def _backup(args: argparse.Namespace) -> None:
    from workflow.backup import backup_now

    done = await backup_now(_config(args), to=args.to)
    manifest = done.manifest
    files = manifest["files"]
    size = sum(f["size"] for f in files) / 1048576
    database = manifest["database"]
    print(
        f"备份完成：{done.where}（数据库 {database['size'] / 1048576:.1f} MB，"
        f"订单 {database['rows'].get('order', 0)} 个，文件 {len(files)} 个 {size:.1f} MB，"
        f"用时 {manifest['seconds']:.1f} 秒）"
    )
    if done.removed:
        print(f"按保留设置删除了较早的备份：{'、'.join(done.removed)}")


async def _restore(args: argparse.Namespace) -> None:
    from relay.db import migrate
    from workflow.backup import restore_now

    config = _config(args)
    restored = await restore_now(config, backup=args.backup, force=args.force)
    if restored.needs_migration:
        await migrate(config.database.url)
    print(
        f"恢复完成：{restored.name}（订单 {restored.orders} 个，复制文件 {restored.files_copied} 个"
        + (f"，已升级数据库：{'、'.join(restored.needs_migration)}" if restored.needs_migration else "")
        + "）"
    )


async def _warehouse(args: argparse.Namespace) -> None:
    from relay.db import close_db, open_db
    from workflow.stock import close_warehouse, open_warehouse

    await open_db(_config(args).database.url)
    try:
        if args.action == "open":
            warehouse = await open_warehouse(name=args.name, unit_path=args.unit)
            print(f"仓库 {warehouse.name} 已启用")
        else:
            warehouse = await close_warehouse(name=args.name)
            print(f"仓库 {warehouse.name} 已停用")
    finally:
        await close_db()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relay", description="Relay (接力): order lifecycle through a WeCom bot")
    parser.add_argument("--config", default="config.toml", help="config file (default: config.toml)")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run Relay with a local WeCom and its chat console, on seeded data")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--emulator-port", type=int, default=8081)
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--data", default="var/demo", help="where the demo keeps its database and files")
    demo.set_defaults(run=_demo)
    sub.add_parser(
        "serve", help="the web app: WeCom callback, H5 pages, API (and background work unless server.background=false)"
    ).set_defaults(run=_serve)
    sub.add_parser("worker", help="background work: inbox, outbox, reminders, alerts, daily numbers").set_defaults(
        run=_worker
    )
    sub.add_parser("migrate", help="create or upgrade the database schema").set_defaults(run=_migrate)
    sub.add_parser("lifecycle", help="print the order lifecycle (Markdown with a Mermaid diagram)").set_defaults(
        run=_lifecycle
    )
    for what in ("staff", "products"):
        p = sub.add_parser(what, help=f"{what} data")
        p_sub = p.add_subparsers(dest="action", required=True)
        imp = p_sub.add_parser("import", help=f"import {what} from a CSV file")
        imp.add_argument("file")
        imp.set_defaults(run=_import, what=what)
    leads = sub.add_parser("leads", help="showroom bookings (预约)")
    l_sub = leads.add_subparsers(dest="action", required=True)
    l_imp = l_sub.add_parser(
        "import", help="book leads from a CSV file: store,name,phone[,need_level,products,wanted_at,note]"
    )
    l_imp.add_argument("file")
    l_imp.set_defaults(run=_leads_import)
    files = sub.add_parser("files", help="stored photos, drawings and signatures")
    f_sub = files.add_subparsers(dest="action", required=True)
    to_bucket = f_sub.add_parser(
        "migrate-to-bucket", help="copy the files under storage.path into storage.bucket, checked, resumable"
    )
    to_bucket.add_argument("--delete", action="store_true", help="remove each disk copy once the bucket's is checked")
    to_bucket.set_defaults(run=_files)
    backup = sub.add_parser(
        "backup", help="back up the database and the files (to [backup] path, or --to DIR or s3://bucket/prefix)"
    )
    backup.add_argument(
        "--to", default="", help="the directory or s3://bucket/prefix to write the backup in (default: [backup] path)"
    )
    backup.set_defaults(run=_backup)
    restore = sub.add_parser("restore", help="restore a backup into an empty database and file store")
    restore.add_argument(
        "backup", help="the backup's folder, its s3://bucket/prefix/name, or its name in [backup] path"
    )
    restore.add_argument("--force", action="store_true", help="replace a database that already holds data")
    restore.set_defaults(run=_restore)
    token = sub.add_parser("token", help="service tokens for the API (the factory's own system)")
    t_sub = token.add_subparsers(dest="action", required=True)
    create = t_sub.add_parser("create", help="create a token; its secret is printed once")
    create.add_argument("name")
    create.add_argument("--scope", action="append", required=True, help="e.g. pieces:write, production:read")
    create.add_argument(
        "--as", dest="acts_as", default="", help="userid of the member the token acts as (orders, payments, catalogue)"
    )
    create.set_defaults(run=_token)
    revoke = t_sub.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run=_token)
    warehouse = sub.add_parser("warehouse", help="warehouses for stock (库存)")
    w_sub = warehouse.add_subparsers(dest="action", required=True)
    w_open = w_sub.add_parser("open", help="add a warehouse to a part of the company, or open a closed one")
    w_open.add_argument("name")
    w_open.add_argument("unit", help="the part of the company, e.g. 朗斯家居/华东区")
    w_open.set_defaults(run=_warehouse)
    w_close = w_sub.add_parser("close", help="stop reserving from a warehouse by default (its stock stays)")
    w_close.add_argument("name")
    w_close.set_defaults(run=_warehouse)
    return parser


def _log_off_the_loop() -> logging.handlers.QueueListener:
    """Log lines are written by a thread: a slow terminal, pipe or disk never holds up the event loop."""
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    out = logging.StreamHandler()
    out.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    into_queue = logging.handlers.QueueHandler(lines)
    into_queue.setFormatter(logging.Formatter("%(message)s"))  # the message (and traceback); `out` adds the rest
    logging.basicConfig(level=logging.INFO, handlers=[into_queue])
    writer = logging.handlers.QueueListener(lines, out)
    writer.start()
    return writer


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on uvloop's event loop where it is installed (libuv: the loop's own work costs less than
    asyncio's, for the same answers), else on asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    writer = _log_off_the_loop()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            if run_loop(args.run(args)):
                return 1
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        from infra.backup import BackupError
        from workflow.errors import WorkflowError

        if isinstance(exc, WorkflowError | BackupError):
            print(f"错误：{exc.message}", file=sys.stderr)
            return 1
        raise
    finally:
        writer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
