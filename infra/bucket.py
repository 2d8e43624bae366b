"""The file store's two backends: a folder on this machine's disk, or an S3-compatible bucket.

Both hold the same keys (files/ab/<sha256>, thumbs/ab/<sha256>), so `relay files migrate-to-bucket` copies
a folder into a bucket as it is. Content-addressed: a key's bytes never change, so writing a key that is
already there is harmless, and two processes storing the same photo at once store the same bytes.

The bucket is reached through aiobotocore: botocore's own signing, retries and error codes, sent on
aiohttp, so an upload waits on the event loop like any other request. boto3 blocks: each call would hold
one of asyncio.to_thread's few threads for the length of a transfer, and a burst of photos would queue
behind them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from infra.config import StorageConfig

STORED_FOLDERS = ("files", "thumbs")


def file_key(sha256: str, *, thumbnail: bool = False) -> str:
    return f"{'thumbs' if thumbnail else 'files'}/{sha256[:2]}/{sha256}"


def is_stored_key(key: str) -> bool:
    """A key of the store's own shape (files/ab/<sha256>): not a half-written .tmp file, nor anything else a
    shared bucket or folder may hold."""
    parts = key.split("/")
    return len(parts) == 3 and parts[0] in STORED_FOLDERS and "." not in parts[2]


def key_content_type(key: str) -> str:
    """The type a key is stored with when copied in bulk (pages send their own on every download)."""
    return "image/jpeg" if key.startswith("thumbs/") else "application/octet-stream"


class Backend(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes:
        """The bytes under `key`; FileNotFoundError if there are none."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None: ...

    async def keys(self) -> list[str]:
        """Every stored file and thumbnail, as keys, sorted."""
        ...

    async def holds(self, key: str, data: bytes) -> bool:
        """Whether `key` already holds exactly `data`."""
        ...

    async def close(self) -> None: ...


class Disk:
    """A folder on this machine: the demo's and a one-machine install's."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)  # readers never see half a file

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self.path(key), data)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path(key).read_bytes)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).exists)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)

    async def keys(self) -> list[str]:
        return await asyncio.to_thread(stored_keys, self)

    def _holds(self, key: str, data: bytes) -> bool:
        path = self.path(key)
        return path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data

    async def holds(self, key: str, data: bytes) -> bool:
        return await asyncio.to_thread(self._holds, key, data)

    async def close(self) -> None:
        return None


HASH_ON_LOOP = 256 * 1024  # bytes: a photo's MD5 takes under a millisecond


def md5_base64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


class Bucket:
    """An S3-compatible bucket. The client is opened on first use, on the loop that uses it."""

    def __init__(self, config: StorageConfig) -> None:
        self.config = config
        self.name = config.bucket
        self.prefix = config.prefix
        self._opening = asyncio.Lock()
        self._exit = contextlib.AsyncExitStack()
        self._s3: Any = None

    async def client(self) -> Any:
        async with self._opening:
            if self._s3 is None:
                from aiobotocore.session import get_session
                from botocore.config import Config as BotoConfig

                c = self.config
                boto_config = BotoConfig(
                    signature_version="s3v4",
                    s3={"addressing_style": c.addressing_style},
                    # Checksums only where S3 requires them: COS and older MinIO refuse or mangle the
                    # CRC headers botocore sends by default since 1.36. Uploads carry Content-MD5 instead.
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                    retries={"max_attempts": 4, "mode": "standard"},
                    connect_timeout=5,
                    read_timeout=60,
                )
                self._s3 = await self._exit.enter_async_context(
                    get_session().create_client(
                        "s3",
                        endpoint_url=c.endpoint_url or None,
                        region_name=c.region or None,
                        aws_access_key_id=c.access_key or None,
                        aws_secret_access_key=c.secret_key or None,
                        config=boto_config,
                    )
                )
            return self._s3

    def key(self, key: str) -> str:
        return self.prefix + key

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Content-MD5 makes the bucket refuse bytes damaged on the way; a put is atomic, so a reader
        sees the whole file or none."""
        s3 = await self.client()
        # A 20 MB drawing takes ~80 ms to hash: off the loop (hashlib lets go of the GIL for it).
        md5 = md5_base64(data) if len(data) < HASH_ON_LOOP else await asyncio.to_thread(md5_base64, data)
        await s3.put_object(Bucket=self.name, Key=self.key(key), Body=data, ContentType=content_type, ContentMD5=md5)

    async def get(self, key: str) -> bytes:
        s3 = await self.client()
        try:
            response = await s3.get_object(Bucket=self.name, Key=self.key(key))
        except s3.exceptions.NoSuchKey as exc:
            raise FileNotFoundError(key) from exc
        async with response["Body"] as body:
            return bytes(await body.read())

    async def head(self, key: str) -> tuple[int, str] | None:
        """The size and ETag of `key` (the MD5 of its bytes, for a file put in one piece), or None."""
        from botocore.exceptions import ClientError

        s3 = await self.client()
        try:
            found = await s3.head_object(Bucket=self.name, Key=self.key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(found["ContentLength"]), str(found["ETag"]).strip('"')

    async def exists(self, key: str) -> bool:
        return await self.head(key) is not None

    async def holds(self, key: str, data: bytes) -> bool:
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        return await self.head(key) == (len(data), md5)

    async def delete(self, key: str) -> None:
        s3 = await self.client()
        await s3.delete_object(Bucket=self.name, Key=self.key(key))

    async def listed(self, under: str) -> list[str]:
        """Every key that starts with `under` (after the prefix), without the prefix: list_objects_v2 answers
        a thousand at a time."""
        s3 = await self.client()
        found: list[str] = []
        async for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=self.key(under)):
            found.extend(item["Key"].removeprefix(self.prefix) for item in page.get("Contents", []))
        return found

    async def keys(self) -> list[str]:
        listed = [key for folder in STORED_FOLDERS for key in await self.listed(folder + "/")]
        return sorted(key for key in listed if is_stored_key(key))

    async def presigned(self, key: str, *, content_type: str, cache: str, download_name: str | None) -> str:
        """A link to `key` that works for presign_seconds, for whoever holds it: give it only to those
        Relay has just let see the file. The bucket answers with the type and name Relay chose."""
        s3 = await self.client()
        params = {
            "Bucket": self.name,
            "Key": self.key(key),
            "ResponseContentType": content_type,
            "ResponseCacheControl": cache,
        }
        if download_name is not None:
            params["ResponseContentDisposition"] = f"attachment; filename*=UTF-8''{download_name}"
        return str(await s3.generate_presigned_url("get_object", Params=params, ExpiresIn=self.config.presign_seconds))

    async def close(self) -> None:
        await self._exit.aclose()
        self._s3 = None


@dataclass
class Copied:
    """What `copy_to_bucket` did, file by file (thumbnails count as files)."""

    copied: int = 0
    already_there: int = 0
    deleted: int = 0
    failed: list[str] = field(default_factory=list)


COPIES_AT_ONCE = 8


def stored_keys(disk: Disk) -> list[str]:
    """Every file and thumbnail under the folder, as keys (half-written .tmp files left out)."""
    return sorted(
        key
        for folder in STORED_FOLDERS
        for p in (disk.root / folder).glob("*/*")
        if is_stored_key(key := p.relative_to(disk.root).as_posix()) and p.is_file()
    )


async def copy_to_bucket(disk: Disk, bucket: Bucket, *, delete: bool = False) -> Copied:
    """Copy a local store into the bucket, checked file by file: a file's bytes must still hash to its
    name; the bucket must then hold the same size and MD5 (its ETag). A file already there and equal
    is left alone, so a run that stopped halfway is simply run again. The disk copy goes only with
    `delete`, and only once the bucket's copy is checked."""
    result = Copied()
    keys = await disk.keys()
    for start in range(0, len(keys), COPIES_AT_ONCE):
        await asyncio.gather(
            *(_copy_one(disk, bucket, key, result, delete) for key in keys[start : start + COPIES_AT_ONCE])
        )
    return result


async def _copy_one(disk: Disk, bucket: Bucket, key: str, result: Copied, delete: bool) -> None:
    data = await disk.get(key)
    if key.startswith("files/") and hashlib.sha256(data).hexdigest() != key.rsplit("/", 1)[-1]:
        result.failed.append(f"{key}: damaged on disk (its sha256 differs from its name)")
        return
    expected = (len(data), hashlib.md5(data, usedforsecurity=False).hexdigest())
    if await bucket.head(key) == expected:
        result.already_there += 1
    else:
        await bucket.put(key, data, key_content_type(key))
        if await bucket.head(key) != expected:
            result.failed.append(f"{key}: the bucket's copy differs in size or MD5")
            return
        result.copied += 1
    if delete:
        await disk.delete(key)
        result.deleted += 1


def bucket_origin(config: StorageConfig) -> str:
    """Where browsers fetch the bucket's files from: H5 pages must allow images from there (CSP)."""
    if config.backend != "s3":
        return ""
    endpoint = urlsplit(config.endpoint_url or f"https://s3.{config.region or 'us-east-1'}.amazonaws.com")
    host = endpoint.netloc if config.addressing_style == "path" else f"{config.bucket}.{endpoint.netloc}"
    return f"{endpoint.scheme}://{host}"


def open_backend(config: StorageConfig) -> Disk | Bucket:
    return Bucket(config) if config.backend == "s3" else Disk(config.path)
