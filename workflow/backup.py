"""Backups as Relay takes them: `relay backup`, the worker's nightly job, and `relay restore` (the mechanics are
infra/backup.py). The nightly backup is a staged job: it runs in the job's first step, outside any transaction,
with the job's lease renewed while it runs."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import models.migrations
from infra.backup import Backup, BackupError, restore_backup, take_backup
from infra.backup_target import open_backup, target_for
from infra.bucket import open_backend
from infra.config import Config
from infra.runtime import runtime
from models.stored_files import REFERENCED_FILES
from workflow.jobs import Staged

log = logging.getLogger(__name__)

BACKUP = "backup"


def relay_version() -> str:
    try:
        return version("relay")
    except PackageNotFoundError:
        return "unknown"


async def backup_now(config: Config, *, to: str = "") -> Backup:
    """A backup of the configured database and file store (a folder or a bucket) to `to` or [backup] path."""
    location = to or config.backup.path
    if not location:
        raise BackupError("没有备份位置：请在配置的 [backup] path 设置目录或 s3://存储桶/前缀，或用 --to 指定")
    async with contextlib.AsyncExitStack() as opened:
        store = open_backend(config.storage)
        opened.push_async_callback(store.close)
        target = target_for(location, config.storage)
        opened.push_async_callback(target.close)
        return await take_backup(
            database_url=config.database.url,
            store=store,
            target=target,
            referenced_sql=REFERENCED_FILES,
            keep=config.backup.keep,
            version=relay_version(),
        )


async def _nightly(payload: dict[str, Any]) -> None:
    done = await backup_now(runtime().config)
    log.info("backup %s: %d files, %s removed", done.where, len(done.manifest["files"]), done.removed or "none")


async def _nothing_to_write(payload: dict[str, Any], prepared: None) -> None:
    """The backup is all done in the first step; the job's row is marked done with nothing else."""


nightly_backup: Staged[None] = Staged(_nightly, _nothing_to_write)


def code_migrations() -> list[str]:
    """The migrations this code has (models/migrations), by name."""
    folder = Path(models.migrations.__file__).parent
    return sorted(p.stem for p in folder.glob("[0-9][0-9][0-9][0-9]_*.py"))


@dataclass(frozen=True)
class Restored:
    name: str
    files_copied: int
    orders: int
    # The backup's schema is older than the code's: the caller brings it up to date (`relay.db.migrate`).
    needs_migration: list[str]


async def restore_now(config: Config, *, backup: str, force: bool) -> Restored:
    """Restore a backup (a folder, "s3://bucket/prefix/name", or a name in [backup] path) into the configured
    database and file store."""
    async with contextlib.AsyncExitStack() as opened:
        target, name = open_backup(backup, config.backup.path, config.storage)
        opened.push_async_callback(target.close)
        if name not in await target.names():
            raise BackupError(f"找不到备份 {backup}")
        reader = await target.open(name)
        opened.push_async_callback(reader.close)
        applied = reader.manifest["database"]["migrations"]
        ours = code_migrations()
        newer = [m for m in applied if m not in ours]
        if newer:
            raise BackupError(f"备份来自更新的 Relay（迁移 {', '.join(newer)} 这个版本没有）：请先升级 Relay 再恢复")
        store = open_backend(config.storage)
        opened.push_async_callback(store.close)
        copied = await restore_backup(reader=reader, database_url=config.database.url, store=store, force=force)
    return Restored(
        name=name,
        files_copied=copied,
        orders=reader.manifest["database"]["rows"].get("order", 0),
        needs_migration=[m for m in ours if m not in applied],
    )
