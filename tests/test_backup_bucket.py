"""Backups of a Relay whose files are in a bucket (moto's S3 server, tests/s3_server.py), to a directory or to a
bucket target ("s3://bucket/prefix"), restored by `relay restore` into a fresh database and a fresh bucket prefix,
where a `relay serve` on the restored copy shows every order, file and signature; retention on a bucket target;
a backup that cannot finish leaves nothing listed; the two stores list the same keys."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import unused_port

from infra.backup import BackupError
from infra.backup_target import BucketTarget, download_file, upload_file
from infra.bucket import Bucket, Disk, file_key
from infra.config import StorageConfig
from infra.runtime import runtime
from infra.storage import FileStore
from models import Attachment, Invoice, Order, OrderState, Signature
from tests.s3_server import S3Server
from tests.support import World, fresh_database, jpeg
from tests.test_backup import FINANCE, MANAGER, relay, seed_company, write_config
from tests.test_permissions import at_state
from tests.test_restart import RelayProcess
from webviews.auth import SESSION_COOKIE, session_value
from workflow.backup import backup_now

on_a_bucket = pytest.mark.parametrize("storage_backend", ["bucket"])


def backup_keys(s3_server: S3Server, bucket: str) -> set[str]:
    return set(s3_server.keys(bucket))


async def served(http: aiohttp.ClientSession, url: str) -> bytes:
    """A file as a phone gets it from the restored Relay: its presigned link, then the bucket's bytes."""
    async with http.get(url, allow_redirects=False) as resp:
        assert resp.status == 302, (url, resp.status)
        link = resp.headers["Location"]
    async with aiohttp.ClientSession() as phone, phone.get(link) as resp:
        assert resp.status == 200, link
        return await resp.read()


@on_a_bucket
@pytest.mark.parametrize("target", ["directory", "bucket"])
async def test_files_in_a_bucket_are_backed_up_and_restored_into_a_fresh_database_and_bucket(
    world: World, s3_server: S3Server, tmp_path: Path, target: str
) -> None:
    seeded = await seed_company(world)
    orders = sorted([o.number for o in await Order.all()])
    attachments = await Attachment.all().order_by("id")
    signature = await Signature.get(order__number="BK-SIGNED").prefetch_related("attachment")
    invoice = await Invoice.get(order__number="BK-MONEY")
    files = runtime().files
    originals = {a.id: await files.read(a.sha256) for a in attachments}

    backup_bucket = s3_server.new_bucket()
    location = str(tmp_path / "backups") if target == "directory" else f"s3://{backup_bucket}/nightly"
    storage: dict[str, Any] = {**dataclasses.asdict(world.config.storage), "path": str(tmp_path / "live" / "files")}
    live = write_config(tmp_path / "live", database_url=world.config.database.url, backup=location, storage=storage)
    code, out = await relay(live, "backup")
    assert code == 0 and "备份完成" in out, out
    if target == "bucket":
        [name] = {key.split("/")[1] for key in backup_keys(s3_server, backup_bucket)}
        assert f"备份完成：s3://{backup_bucket}/nightly/{name}" in out, out
        where = f"s3://{backup_bucket}/nightly/{name}"
    else:
        [name] = [p.name for p in (tmp_path / "backups").iterdir()]
        where = str(tmp_path / "backups" / name)
    assert not (tmp_path / "live" / "files").exists()  # the files came from the bucket, not a folder

    async with fresh_database(world.config.database.url, tmp_path) as restored_url:
        port = unused_port()
        fresh = {**storage, "bucket": s3_server.new_bucket(), "prefix": "restored/"}
        restored = write_config(tmp_path / "restored", database_url=restored_url, port=port, storage=fresh)
        code, out = await relay(restored, "restore", where)
        assert code == 0 and f"恢复完成：{name}（订单 {len(orders)} 个" in out, out
        in_fresh = s3_server.keys(fresh["bucket"])
        for a in attachments:
            assert in_fresh[f"restored/{file_key(a.sha256)}"] == len(originals[a.id])
            if a.has_thumbnail:
                assert f"restored/{file_key(a.sha256, thumbnail=True)}" in in_fresh

        server = RelayProcess(restored, port, tmp_path / "serve.log")
        await server.start()
        base = f"http://127.0.0.1:{port}"
        try:
            async with aiohttp.ClientSession(cookies={SESSION_COOKIE: session_value(MANAGER)}) as http:
                for number in orders:
                    async with http.get(f"{base}/h5/orders/{number}") as resp:
                        assert resp.status == 200 and number in await resp.text()
                for a in attachments:
                    assert await served(http, f"{base}/h5/files/{a.id}") == originals[a.id], a.category
                assert (
                    await served(http, f"{base}/h5/files/{signature.attachment.id}")
                    == originals[signature.attachment.id]
                )
            async with aiohttp.ClientSession(cookies={SESSION_COOKIE: session_value(FINANCE)}) as http:
                invoice_file = await served(http, f"{base}/h5/orders/BK-MONEY/invoices/{invoice.id}/file")
                assert invoice_file == seeded["receipt"]
        finally:
            await server.stop()

        # Restored again over it (--force): every key already holds the same bytes, none is written.
        code, out = await relay(restored, "restore", where, "--force")
        assert code == 0 and "复制文件 0 个" in out, out


@on_a_bucket
async def test_a_bucket_target_keeps_the_newest_and_an_unfinished_backup_is_never_listed(
    world: World, s3_server: S3Server, tmp_path: Path
) -> None:
    order = await at_state("BK-KEEP", OrderState.MEASURED)
    backup_bucket = s3_server.new_bucket()
    config = world.config.replace(backup={"path": f"s3://{backup_bucket}/nightly/", "keep": 2})
    target = BucketTarget(world.config.storage, backup_bucket, "nightly/")
    try:
        # A backup a process began two days ago and never finished: files, no manifest.
        abandoned = "relay-20261130T020000.000Z"
        s3_server.client().put_object(Bucket=backup_bucket, Key=f"nightly/{abandoned}/files/ab/abcd", Body=b"x")
        taken = [await backup_now(config) for _ in range(3)]
        assert await target.names() == [taken[1].name, taken[2].name]
        assert taken[2].removed == [taken[0].name]
        kept = {key.split("/")[1] for key in backup_keys(s3_server, backup_bucket)}
        assert kept == {taken[1].name, taken[2].name}  # the oldest and the abandoned one are gone, every key
        # The second backup's files are copies of the first's, made in the bucket: the same bytes.
        photo = next(f for f in taken[2].manifest["files"] if f["path"].startswith("files/"))
        assert photo in taken[1].manifest["files"]
        body = s3_server.client().get_object(Bucket=backup_bucket, Key=f"nightly/{taken[2].name}/{photo['path']}")
        assert body["Body"].read() == await runtime().files.read(photo["path"].rsplit("/", 1)[-1])

        # A file the database refers to is gone from the store (erased by hand): the backup cannot be
        # consistent, is taken again, gives up, and every attempt removed what it wrote.
        [attachment] = await Attachment.filter(order_id=order.id).limit(1)
        await runtime().files.backend.delete(file_key(attachment.sha256))
        with pytest.raises(BackupError, match="数据库引用的 1 个文件不在文件存储里"):
            await backup_now(config)
        assert await target.names() == [taken[1].name, taken[2].name]
        assert {key.split("/")[1] for key in backup_keys(s3_server, backup_bucket)} == kept
        other = write_config(
            tmp_path / "other", database_url=world.config.database.url, storage=dataclasses.asdict(world.config.storage)
        )
        code, out = await relay(other, "restore", f"s3://{backup_bucket}/nightly/{taken[0].name}")
        assert code == 1 and "找不到备份" in out, out
    finally:
        await target.close()


async def test_a_folder_and_a_bucket_list_the_same_stored_keys(s3_server: S3Server, tmp_path: Path) -> None:
    disk = Disk(tmp_path / "files")
    bucket = Bucket(StorageConfig(**s3_server.storage(s3_server.new_bucket(), disk.root, prefix="relay/")))
    try:
        for backend in (disk, bucket):
            store = FileStore(backend, max_image_bytes=10 << 20, max_file_bytes=20 << 20)
            for i in range(3):
                await store.put_image(jpeg(200, 100, (i * 80, 10, 10)))
            await store.put_document(b"%PDF-1.4\n% a drawing\n")
        (disk.root / "files" / "ab").mkdir(exist_ok=True)
        (disk.root / "files" / "ab" / "abcd.4242.tmp").write_bytes(b"half")  # a write cut short
        await bucket.put("other/notes.txt", b"not Relay's", "text/plain")  # a bucket shared with others
        keys = await disk.keys()
        assert len(keys) == 7 and await bucket.keys() == keys  # 3 photos, their thumbnails, a drawing
    finally:
        await bucket.close()


async def test_a_dump_larger_than_a_part_goes_up_in_parts_and_comes_back_whole(
    s3_server: S3Server, tmp_path: Path
) -> None:
    bucket = Bucket(StorageConfig(**s3_server.storage(s3_server.new_bucket(), tmp_path)))
    dump = tmp_path / "database.pgdump"
    dump.write_bytes(bytes(range(256)) * (11 * 4096))  # 11 MiB: parts of 5 MiB, 5 MiB and 1 MiB
    try:
        await upload_file(bucket, "relay-1/database.pgdump", dump, part=5 << 20)
        assert s3_server.keys(bucket.name) == {"relay-1/database.pgdump": dump.stat().st_size}
        await download_file(bucket, "relay-1/database.pgdump", tmp_path / "back")
        assert (tmp_path / "back").read_bytes() == dump.read_bytes()
    finally:
        await bucket.close()
