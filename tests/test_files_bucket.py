"""Files in an S3-compatible bucket: moto's S3 server (tests/s3_server.py) plays Tencent COS or AWS S3.

Photos from the chat, thumbnails, signatures, catalogue photos and charts land in the bucket and nothing
on this machine's disk; pages hand out a presigned link only after their own check; and
`relay files migrate-to-bucket` copies an existing local store, checked, resumable and idempotent.
"""

from __future__ import annotations

import asyncio
import io
import re
import textwrap
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from PIL import Image

from infra.bucket import Bucket, Disk, bucket_origin, copy_to_bucket, file_key
from infra.config import StorageConfig
from infra.runtime import runtime
from infra.storage import FileStore
from models import Attachment, OrderState, OutboxMessage, Product, Signature
from relay.cli import main as relay_main
from tests.s3_server import S3Server
from tests.support import SECRETS, World, jpeg
from tests.test_lifecycle import post_form
from tests.test_measure_slice import SALES
from tests.test_permissions import at_state
from tests.test_photos import measuring, site_photos
from tests.test_privacy import _ink
from workflow.signing import signing_token, submit_signature

on_a_bucket = pytest.mark.parametrize("storage_backend", ["bucket"])


def in_bucket(world: World, s3_server: S3Server) -> dict[str, int]:
    return s3_server.keys(world.config.storage.bucket)


async def redirect(http: aiohttp.ClientSession, url: str) -> str:
    """The presigned link a file route answers with (checked to be one, and never cached)."""
    async with http.get(url, allow_redirects=False) as resp:
        assert resp.status == 302, (url, resp.status, await resp.text())
        assert resp.headers["Cache-Control"] == "no-store"
        return resp.headers["Location"]


async def fetched(link: str) -> tuple[bytes, str, str]:
    """What a phone gets from the link, with no cookie of Relay's: the bytes, type and disposition."""
    async with aiohttp.ClientSession() as phone, phone.get(link) as resp:
        assert resp.status == 200, link
        return await resp.read(), resp.content_type, resp.headers.get("Content-Disposition", "")


@on_a_bucket
async def test_a_chat_photo_is_kept_in_the_bucket_and_opened_by_presigned_link(
    world: World, s3_server: S3Server, tmp_path: Path
) -> None:
    measurer, order_id = await measuring(world)
    data = jpeg(1600, 1200)
    await world.photo(measurer, data)
    [photo] = await site_photos(order_id)
    keys = in_bucket(world, s3_server)
    assert keys[file_key(photo.sha256)] == len(data)
    assert 0 < keys[file_key(photo.sha256, thumbnail=True)] < len(data)
    assert not (tmp_path / "files").exists()  # nothing on this machine's disk

    page = f"{world.relay_url}/h5/files/{photo.id}"
    async with world.signed_in(SALES) as http:
        link = await redirect(http, page)
        assert link.startswith(f"{s3_server.url}/") and "X-Amz-Signature=" in link
        assert await fetched(link) == (data, "image/jpeg", "")
        thumb, kind, _ = await fetched(await redirect(http, page + "?thumb=1"))
        assert kind == "image/jpeg" and Image.open(io.BytesIO(thumb)).size == (480, 360)
        _, _, disposition = await fetched(await redirect(http, page + "?download=1"))
        assert disposition.startswith("attachment; filename*=UTF-8''") and disposition.endswith(".jpg")
        async with http.get(f"{world.relay_url}/h5/orders") as resp:
            csp = resp.headers["Content-Security-Policy"]
            assert f"img-src 'self' data: blob: {s3_server.url};" in csp  # pages may show the bucket's images
    # A salesperson of another store may not see the order: no link, the same 404 as an unknown file.
    async with world.signed_in("lixiaoshou") as http:
        async with http.get(page, allow_redirects=False) as resp:
            assert resp.status == 404 and "Location" not in resp.headers


@on_a_bucket
async def test_a_signature_is_kept_in_the_bucket_and_shown_only_through_the_customers_link(
    world: World, s3_server: S3Server
) -> None:
    order = await at_state("FB-SIGN", OrderState.INSTALLED)
    token = signing_token(order)
    await submit_signature(token=token, png=_ink(), ip="10.1.2.3", user_agent="Phone Browser")
    signature = await Signature.get(order_id=order.id).prefetch_related("attachment")
    image = cast(Attachment, signature.attachment)
    assert in_bucket(world, s3_server)[file_key(image.sha256)] == image.size
    async with aiohttp.ClientSession() as customer:
        link = await redirect(customer, f"{world.relay_url}/sign/{token}/files/{image.id}")
        data, kind, _ = await fetched(link)
        assert kind == "image/png" and data == await runtime().files.read(image.sha256)
        async with customer.get(f"{world.relay_url}/sign/forged.token/files/{image.id}", allow_redirects=False) as resp:
            assert resp.status == 403 and "Location" not in resp.headers
    async with world.signed_in("lixiaoshou") as http:
        async with http.get(f"{world.relay_url}/h5/files/{image.id}", allow_redirects=False) as resp:
            assert resp.status == 404 and "Location" not in resp.headers


@on_a_bucket
async def test_a_catalogue_photo_and_a_chart_are_kept_in_the_bucket(world: World, s3_server: S3Server) -> None:
    picture = jpeg(900, 600, (20, 90, 160))
    fields = [("series", "测试系列"), ("model", "FB1"), ("name", "测试门"), ("unit", "套"), ("list_price", "1000")]
    status, _ = await post_form(world, "wangzong", "/h5/admin/products", fields, [("image", picture, "门.jpg")])
    assert status == 200
    product = await Product.get(model="FB1")
    assert product.image_sha256 and in_bucket(world, s3_server)[file_key(product.image_sha256)] == len(picture)
    async with world.signed_in("sunceliang") as http:
        link = await redirect(http, f"{world.relay_url}/h5/products/{product.id}/image?thumb=1")
    thumb, kind, _ = await fetched(link)
    assert kind == "image/jpeg" and Image.open(io.BytesIO(thumb)).size == (480, 320)

    # 本月统计: the chart is drawn, stored in the bucket, read back by the outbox and sent as an image.
    await world.say("liujingli", "本月统计")
    await world.services.scheduler.run_due()
    await world.settle()
    sent = [m.msgtype for m in world.emu.chat("liujingli") if m.direction == "out"]
    assert [kind for kind in sent if kind != "template_card"] == ["markdown", "image"]  # cards: any job then due
    [chart] = [
        m.payload["image"]["relay_file"] for m in await OutboxMessage.all() if m.payload.get("msgtype") == "image"
    ]
    assert file_key(chart) in in_bucket(world, s3_server)


def relay_toml(path: Path, storage: dict[str, Any]) -> Path:
    wecom, security = cast(dict[str, Any], SECRETS["wecom"]), cast(dict[str, Any], SECRETS["security"])
    lines = [f"{k} = {v!r}".replace("'", '"') for k, v in storage.items()]
    path.write_text(
        textwrap.dedent(
            f"""
            [wecom]
            corp_id = "{wecom["corp_id"]}"
            secret = "{wecom["secret"]}"
            token = "{wecom["token"]}"
            encoding_aes_key = "{wecom["encoding_aes_key"]}"

            [security]
            secret_key = "{security["secret_key"]}"
            pii_key = "{security["pii_key"]}"

            [storage]
            """
        )
        + "\n".join(lines)
        + "\n",
        encoding="utf-8",
    )
    return path


async def relay(*args: str) -> tuple[int, str]:
    """The `relay` command, run as an operator would (its own event loop, in a thread)."""
    out = io.StringIO()

    def run() -> int:
        with redirect_stdout(out):
            return relay_main(list(args))

    code = await asyncio.to_thread(run)
    return code, out.getvalue()


async def test_migrate_to_bucket_copies_checks_resumes_and_deletes_only_when_asked(
    s3_server: S3Server, tmp_path: Path
) -> None:
    local = FileStore(Disk(tmp_path / "old-files"), max_image_bytes=10 << 20, max_file_bytes=20 << 20)
    photos = [await local.put_image(jpeg(800, 600, (i * 60, 10, 10))) for i in range(2)]
    drawing = await local.put_document(b"%PDF-1.4\n% a drawing\n")
    (tmp_path / "old-files" / "files" / "ab").mkdir()
    (tmp_path / "old-files" / "files" / "ab" / "abcd.4242.tmp").write_bytes(b"half")  # a write cut short
    bucket = s3_server.new_bucket()
    storage = s3_server.storage(bucket, tmp_path / "old-files", prefix="relay/")
    config = str(relay_toml(tmp_path / "relay.toml", {**storage, "backend": "local"}))
    expected = {"relay/" + file_key(p.sha256, thumbnail=t): 0 for p in photos for t in (False, True)}
    expected["relay/" + file_key(drawing.sha256)] = 0

    code, out = await relay("--config", config, "files", "migrate-to-bucket")
    assert code == 0 and "复制 5 个文件，0 个已在存储桶中" in out and "失败 0 个" in out, out
    assert set(s3_server.keys(bucket)) == set(expected)
    assert s3_server.keys(bucket)["relay/" + file_key(drawing.sha256)] == drawing.size

    # Stopped halfway (one file never reached the bucket): run again, and only that one is copied.
    s3_server.client().delete_object(Bucket=bucket, Key="relay/" + file_key(photos[0].sha256))
    code, out = await relay("--config", config, "files", "migrate-to-bucket")
    assert code == 0 and "复制 1 个文件，4 个已在存储桶中" in out, out
    code, out = await relay("--config", config, "files", "migrate-to-bucket")
    assert code == 0 and "复制 0 个文件，5 个已在存储桶中" in out and "删除本地 0 个" in out, out
    assert (tmp_path / "old-files" / file_key(drawing.sha256)).exists()  # the disk copies stay

    code, out = await relay("--config", config, "files", "migrate-to-bucket", "--delete")
    assert code == 0 and "删除本地 5 个" in out, out
    left = [p.name for p in (tmp_path / "old-files").rglob("*") if p.is_file()]
    assert left == ["abcd.4242.tmp"]  # only the write cut short, which was never a stored file
    moved = FileStore(Bucket(StorageConfig(**storage)), max_image_bytes=1, max_file_bytes=1)
    assert await moved.read(drawing.sha256) == b"%PDF-1.4\n% a drawing\n"
    await moved.close()


async def test_a_file_damaged_on_disk_is_reported_and_not_copied(s3_server: S3Server, tmp_path: Path) -> None:
    disk = Disk(tmp_path / "old-files")
    local = FileStore(disk, max_image_bytes=10 << 20, max_file_bytes=20 << 20)
    stored = await local.put_document(b"%PDF-1.4\n% the original\n")
    disk.path(file_key(stored.sha256)).write_bytes(b"%PDF-1.4\n% rotted bits\n")
    bucket = Bucket(StorageConfig(**s3_server.storage(s3_server.new_bucket(), disk.root)))
    try:
        done = await copy_to_bucket(disk, bucket, delete=True)
    finally:
        await bucket.close()
    assert done.copied == 0 and done.deleted == 0
    [problem] = done.failed
    assert re.match(rf"files/../{stored.sha256}: damaged on disk", problem)
    assert disk.path(file_key(stored.sha256)).exists()


@pytest.mark.parametrize(
    ("storage", "origin"),
    [
        (
            {"endpoint_url": "https://cos.ap-shanghai.myqcloud.com", "bucket": "relay-1250000000"},
            "https://relay-1250000000.cos.ap-shanghai.myqcloud.com",
        ),
        ({"region": "cn-north-1", "bucket": "relay"}, "https://relay.s3.cn-north-1.amazonaws.com"),
        ({"endpoint_url": "http://minio:9000", "bucket": "relay", "addressing_style": "path"}, "http://minio:9000"),
    ],
)
def test_pages_allow_images_from_where_the_bucket_serves_them(storage: dict[str, str], origin: str) -> None:
    assert bucket_origin(StorageConfig(backend="s3", **storage)) == origin
    assert bucket_origin(StorageConfig(backend="local", **storage)) == ""
