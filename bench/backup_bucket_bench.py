"""Backups of files kept in a bucket: `--photos` distinct photos (with thumbnails) in a local S3-compatible server
(moto, as the tests use), backed up with a migrated SQLite database to a directory and to a bucket target, the next
night's backup to the bucket (every photo a server-side copy of the previous backup's), and a restore into a fresh
bucket prefix. In process (no interpreter start). moto is Python on loopback: the figures show Relay's own cost
and the number of requests, not a real bucket's latency (Tencent COS answers a request in 10-50 ms).

    .venv/bin/python bench/backup_bucket_bench.py [--photos 200]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.backup_bench import photo  # noqa: E402
from infra.backup import Backup, restore_backup, take_backup  # noqa: E402
from infra.backup_target import BackupTarget, BucketTarget, DirectoryTarget  # noqa: E402
from infra.bucket import Bucket  # noqa: E402
from infra.config import StorageConfig  # noqa: E402
from infra.storage import FileStore  # noqa: E402
from models.stored_files import REFERENCED_FILES  # noqa: E402
from relay.db import migrate  # noqa: E402
from tests.s3_server import S3Server  # noqa: E402

T = TypeVar("T")


async def timed(what: str, work: Awaitable[T]) -> T:
    started = time.perf_counter()
    result = await work
    print(f"  {what}: {time.perf_counter() - started:.2f} s", flush=True)
    return result


async def main(photos: int) -> None:
    server = S3Server()
    server.start()
    work = Path(tempfile.mkdtemp(prefix="relay-bucket-bench-"))
    try:
        storage = StorageConfig(**server.storage(server.new_bucket(), work / "unused"))
        database = f"sqlite://{work / 'relay.sqlite3'}"
        await migrate(database)
        store = Bucket(storage)
        files = FileStore(store, max_image_bytes=10 << 20, max_file_bytes=20 << 20)
        rng = random.Random(15)
        size = 0
        for _ in range(photos):
            size += (await files.put_image(photo(rng))).size
        print(f"{photos} photos, {size / 1048576:.0f} MB, and their thumbnails in the bucket", flush=True)
        backup_bucket = server.new_bucket()

        def backup_to(target: BackupTarget) -> Awaitable[Backup]:
            return take_backup(
                database_url=database,
                store=store,
                target=target,
                referenced_sql=REFERENCED_FILES,
                keep=2,
                version="bench",
            )

        await timed("backup to a directory", backup_to(DirectoryTarget(work / "backups")))
        target = BucketTarget(storage, backup_bucket, "nightly/")
        await timed("backup to a bucket", backup_to(target))
        await timed("next backup to the bucket (server-side copies)", backup_to(target))
        [name, _] = await target.names()
        fresh = Bucket(dataclasses.replace(storage, bucket=server.new_bucket(), prefix="restored/"))
        reader = await target.open(name)
        restore = restore_backup(
            reader=reader, database_url=f"sqlite://{work / 'restored.sqlite3'}", store=fresh, force=False
        )
        await timed("restore from the bucket into a fresh bucket", restore)
        for opened in (reader, target, fresh, files):
            await opened.close()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=200)
    asyncio.run(main(parser.parse_args().photos))
