"""Where backups are kept. A backup is a set of named files (the database, files/…, thumbs/…) and its manifest,
written last: a backup without its manifest is unfinished and never listed, restored or counted for retention.

`DirectoryTarget` keeps each backup as a folder. `BucketTarget` keeps each as a key prefix in an S3-compatible
bucket, laid out as the folder would be (so a backup downloaded from the bucket is a folder `relay restore`
reads): the database's dump is uploaded from a temporary file, a file already in the previous backup is a
server-side copy of it, and the manifest is uploaded last. `target_for` is the one place that reads the
configured location ("s3://bucket/prefix" or a directory).

The interface is async: the bucket's client (aiobotocore, as infra/bucket.py's) runs on the event loop, and the
directory's file work goes to threads, so neither blocks the loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import itertools
import json
import os
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.bucket import HASH_ON_LOOP, Backend, Bucket, md5_base64
from infra.config import StorageConfig

MANIFEST = "manifest.json"
PARTIAL = ".partial"
# An unfinished backup this old belongs to a process that died: a running one would have finished.
ABANDONED_SECONDS = 24 * 3600
CHUNK = 1 << 20
BUCKET_SCHEME = "s3://"
# The database's dump goes up in parts this size (S3's smallest part is 5 MiB); smaller, in one put.
UPLOAD_PART = 16 << 20
DELETES_AT_ONCE = 8


@dataclass(frozen=True)
class FileEntry:
    path: str  # inside the backup, "files/ab/abcd…"
    sha256: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size": self.size}


def write_hashing(data: bytes, target: Path) -> FileEntry:
    """Write bytes read from the store, hashing them; the file appears whole or not at all."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    return FileEntry(target.name, hashlib.sha256(data).hexdigest(), len(data))


async def sha256_of(data: bytes) -> str:
    """A photo's hash on the loop; a large drawing's in a thread (hashlib lets go of the GIL)."""
    if len(data) < HASH_ON_LOOP:
        return hashlib.sha256(data).hexdigest()
    return await asyncio.to_thread(lambda: hashlib.sha256(data).hexdigest())


def hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as src:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class BackupWriter(ABC):
    """One backup being written."""

    @abstractmethod
    def scratch(self, name: str) -> Path:
        """A local path where a tool (pg_dump, SQLite's backup) writes the backup's file `name`; `keep(name)`
        once it is written."""

    @abstractmethod
    async def keep(self, name: str) -> FileEntry:
        """The file written at `scratch(name)` is part of the backup."""

    @abstractmethod
    async def add_file(self, name: str, source: Backend) -> FileEntry:
        """Copy the stored file `name` in from the file store. Stored files never change under their name
        (content-addressed), so one the previous backup holds is shared with it or copied from it, and the
        store is not read. FileNotFoundError if the store no longer has it."""

    @abstractmethod
    async def commit(self, manifest: dict[str, Any]) -> None:
        """Write the manifest: from now on the backup exists."""

    @abstractmethod
    async def abort(self) -> None:
        """Remove what was written."""


class BackupReader(ABC):
    @property
    @abstractmethod
    def manifest(self) -> dict[str, Any]: ...

    @abstractmethod
    async def local(self, name: str) -> Path:
        """A local path holding the backup's file `name`, for pg_restore or SQLite (a bucket downloads it)."""

    @abstractmethod
    async def read(self, name: str) -> bytes:
        """The bytes of the backup's file `name` (a stored file); FileNotFoundError if it is not there."""

    async def close(self) -> None:
        """Let go of what `local` downloaded."""
        return None


class BackupTarget(ABC):
    @abstractmethod
    async def names(self) -> list[str]:
        """The finished backups, oldest first (names sort by time)."""

    @abstractmethod
    async def begin(self, name: str) -> BackupWriter: ...

    @abstractmethod
    async def open(self, name: str) -> BackupReader: ...

    @abstractmethod
    async def remove(self, name: str) -> None: ...

    @abstractmethod
    def describe(self, name: str) -> str:
        """Where the backup is, for people."""

    async def close(self) -> None:
        """Let go of the connection, if any."""
        return None


class DirectoryWriter(BackupWriter):
    def __init__(self, final: Path, previous: Path | None) -> None:
        self.final = final
        self.folder = final.with_name(final.name + PARTIAL)
        self.folder.mkdir(parents=True)
        self._previous = previous
        self._previous_files = _file_entries(previous) if previous else {}

    def scratch(self, name: str) -> Path:
        return self.folder / name

    async def keep(self, name: str) -> FileEntry:
        sha256, size = await asyncio.to_thread(hash_file, self.folder / name)
        return FileEntry(name, sha256, size)

    def _link_previous(self, name: str) -> bool:
        """A hard link: the nightly backup of an unchanged photo costs no space."""
        assert self._previous is not None
        target = self.folder / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(self._previous / name, target)
        except OSError:
            return False  # another file system, or the previous backup lost it: copy
        return True

    async def add_file(self, name: str, source: Backend) -> FileEntry:
        known = self._previous_files.get(name)
        if known is not None and await asyncio.to_thread(self._link_previous, name):
            return known
        data = await source.get(name)
        entry = await asyncio.to_thread(write_hashing, data, self.folder / name)
        return FileEntry(name, entry.sha256, entry.size)

    def _commit(self, manifest: dict[str, Any]) -> None:
        tmp = self.folder / f"{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.folder / MANIFEST)
        os.rename(self.folder, self.final)

    async def commit(self, manifest: dict[str, Any]) -> None:
        await asyncio.to_thread(self._commit, manifest)

    async def abort(self) -> None:
        await asyncio.to_thread(shutil.rmtree, self.folder, ignore_errors=True)


class DirectoryReader(BackupReader):
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))

    @property
    def manifest(self) -> dict[str, Any]:
        return self._manifest

    async def local(self, name: str) -> Path:
        return self.folder / name

    async def read(self, name: str) -> bytes:
        return await asyncio.to_thread((self.folder / name).read_bytes)


def _file_entries(folder: Path) -> dict[str, FileEntry]:
    return _entries(json.loads((folder / MANIFEST).read_text(encoding="utf-8")))


def _entries(manifest: dict[str, Any]) -> dict[str, FileEntry]:
    return {f["path"]: FileEntry(f["path"], f["sha256"], f["size"]) for f in manifest["files"]}


class DirectoryTarget(BackupTarget):
    """Backups as folders in a directory (best another disk, or a mount of another machine's)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / MANIFEST).is_file() and p.suffix != PARTIAL)

    async def names(self) -> list[str]:
        return await asyncio.to_thread(self._names)

    def _begin(self, name: str) -> DirectoryWriter:
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_abandoned()
        names = self._names()
        return DirectoryWriter(self.root / name, self.root / names[-1] if names else None)

    async def begin(self, name: str) -> DirectoryWriter:
        return await asyncio.to_thread(self._begin, name)

    async def open(self, name: str) -> DirectoryReader:
        return await asyncio.to_thread(DirectoryReader, self.root / name)

    async def remove(self, name: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self.root / name)

    def describe(self, name: str) -> str:
        return str(self.root / name)

    def _remove_abandoned(self) -> None:
        for folder in self.root.glob(f"*{PARTIAL}"):
            if time.time() - folder.stat().st_mtime > ABANDONED_SECONDS:
                shutil.rmtree(folder, ignore_errors=True)


# A bucket


async def upload_file(bucket: Bucket, key: str, path: Path, *, part: int = UPLOAD_PART) -> None:
    """A local file into the bucket, a part at a time (a dump may be larger than memory should hold), each
    with its Content-MD5; a multipart upload that fails is aborted, so no half object stays behind."""
    size = (await asyncio.to_thread(path.stat)).st_size
    if size <= part:
        await bucket.put(key, await asyncio.to_thread(path.read_bytes), "application/octet-stream")
        return
    s3 = await bucket.client()
    where = {"Bucket": bucket.name, "Key": bucket.key(key)}
    upload_id = (await s3.create_multipart_upload(**where))["UploadId"]
    try:
        parts = []
        source = await asyncio.to_thread(open, path, "rb")
        try:
            for number in itertools.count(1):
                chunk = await asyncio.to_thread(source.read, part)
                if not chunk:
                    break
                md5 = await asyncio.to_thread(md5_base64, chunk)
                done = await s3.upload_part(**where, UploadId=upload_id, PartNumber=number, Body=chunk, ContentMD5=md5)
                parts.append({"ETag": done["ETag"], "PartNumber": number})
        finally:
            await asyncio.to_thread(source.close)
        await s3.complete_multipart_upload(**where, UploadId=upload_id, MultipartUpload={"Parts": parts})
    except BaseException:
        await s3.abort_multipart_upload(**where, UploadId=upload_id)
        raise


async def download_file(bucket: Bucket, key: str, target: Path) -> None:
    """A key into a local file, a megabyte at a time."""
    s3 = await bucket.client()
    try:
        response = await s3.get_object(Bucket=bucket.name, Key=bucket.key(key))
    except s3.exceptions.NoSuchKey as exc:
        raise FileNotFoundError(key) from exc
    out = await asyncio.to_thread(open, target, "wb")
    try:
        async with response["Body"] as body:
            while chunk := await body.read(CHUNK):
                await asyncio.to_thread(out.write, chunk)
    finally:
        await asyncio.to_thread(out.close)


async def _delete_all(bucket: Bucket, keys: list[str]) -> None:
    """One DELETE a key, a few at a time. DeleteObjects must carry a checksum, and botocore (since 1.36) sends
    a CRC32 one where older S3-compatible stores require Content-MD5 (as infra/bucket.py's client notes)."""
    for start in range(0, len(keys), DELETES_AT_ONCE):
        await asyncio.gather(*(bucket.delete(key) for key in keys[start : start + DELETES_AT_ONCE]))


class BucketWriter(BackupWriter):
    def __init__(self, bucket: Bucket, name: str, previous: str | None, previous_files: dict[str, FileEntry]) -> None:
        self.bucket = bucket
        self.name = name
        self._previous = previous
        self._previous_files = previous_files
        self._scratch = Path(tempfile.mkdtemp(prefix="relay-backup-"))

    def _key(self, name: str, backup: str | None = None) -> str:
        return f"{backup or self.name}/{name}"

    def scratch(self, name: str) -> Path:
        return self._scratch / name

    async def keep(self, name: str) -> FileEntry:
        path = self._scratch / name
        sha256, size = await asyncio.to_thread(hash_file, path)
        await upload_file(self.bucket, self._key(name), path)
        await asyncio.to_thread(path.unlink)
        return FileEntry(name, sha256, size)

    async def _copy_previous(self, name: str) -> bool:
        """A server-side copy: the bytes never leave the bucket."""
        from botocore.exceptions import ClientError

        s3 = await self.bucket.client()
        source = {"Bucket": self.bucket.name, "Key": self.bucket.key(self._key(name, self._previous))}
        try:
            await s3.copy_object(Bucket=self.bucket.name, Key=self.bucket.key(self._key(name)), CopySource=source)
        except ClientError:
            return False  # the previous backup lost it (removed meanwhile): upload from the store
        return True

    async def add_file(self, name: str, source: Backend) -> FileEntry:
        known = self._previous_files.get(name)
        if known is not None and await self._copy_previous(name):
            return known
        data = await source.get(name)
        entry = FileEntry(name, await sha256_of(data), len(data))
        await self.bucket.put(self._key(name), data, "application/octet-stream")
        return entry

    async def commit(self, manifest: dict[str, Any]) -> None:
        body = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
        await self.bucket.put(self._key(MANIFEST), body, "application/json")
        await asyncio.to_thread(shutil.rmtree, self._scratch, ignore_errors=True)

    async def abort(self) -> None:
        await _delete_all(self.bucket, await self.bucket.listed(self.name + "/"))
        await asyncio.to_thread(shutil.rmtree, self._scratch, ignore_errors=True)


class BucketReader(BackupReader):
    def __init__(self, bucket: Bucket, name: str, manifest: dict[str, Any]) -> None:
        self.bucket = bucket
        self.name = name
        self._manifest = manifest
        self._downloads: Path | None = None

    @property
    def manifest(self) -> dict[str, Any]:
        return self._manifest

    async def local(self, name: str) -> Path:
        if self._downloads is None:
            self._downloads = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="relay-restore-"))
        target = self._downloads / name
        await download_file(self.bucket, f"{self.name}/{name}", target)
        return target

    async def read(self, name: str) -> bytes:
        return await self.bucket.get(f"{self.name}/{name}")

    async def close(self) -> None:
        if self._downloads is not None:
            await asyncio.to_thread(shutil.rmtree, self._downloads, ignore_errors=True)


def _started(name: str) -> datetime | None:
    """When a backup began, from its name (infra/backup.py backup_name)."""
    try:
        return datetime.strptime(name.removeprefix("relay-"), "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None


class BucketTarget(BackupTarget):
    """Backups as key prefixes in an S3-compatible bucket: `<prefix><name>/manifest.json`, `…/files/ab/…`.
    Reached with [storage]'s endpoint, region, addressing style and keys: the bucket is on the same service
    as the files' (best a bucket of its own, or another region's)."""

    def __init__(self, storage: StorageConfig, bucket: str, prefix: str) -> None:
        self.bucket = Bucket(dataclasses.replace(storage, bucket=bucket, prefix=prefix))

    async def _folders(self) -> list[str]:
        """The backups begun, finished or not: the "folders" right under the prefix."""
        s3 = await self.bucket.client()
        found: list[str] = []
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket.name, Prefix=self.bucket.prefix, Delimiter="/"
        )
        async for page in pages:
            found.extend(
                p["Prefix"].removeprefix(self.bucket.prefix).rstrip("/") for p in page.get("CommonPrefixes", [])
            )
        return sorted(found)

    async def names(self) -> list[str]:
        folders = await self._folders()
        finished = await asyncio.gather(*(self.bucket.exists(f"{name}/{MANIFEST}") for name in folders))
        return [name for name, done in zip(folders, finished, strict=True) if done]

    async def begin(self, name: str) -> BucketWriter:
        await self._remove_abandoned()
        names = await self.names()
        previous = names[-1] if names else None
        files = _entries(await self._manifest(previous)) if previous else {}
        return BucketWriter(self.bucket, name, previous, files)

    async def _manifest(self, name: str) -> dict[str, Any]:
        return json.loads(await self.bucket.get(f"{name}/{MANIFEST}"))  # type: ignore[no-any-return]

    async def open(self, name: str) -> BucketReader:
        return BucketReader(self.bucket, name, await self._manifest(name))

    async def remove(self, name: str) -> None:
        """The manifest first: from then on the backup is not listed, whatever becomes of its files."""
        await self.bucket.delete(f"{name}/{MANIFEST}")
        await _delete_all(self.bucket, await self.bucket.listed(name + "/"))

    def describe(self, name: str) -> str:
        return f"{BUCKET_SCHEME}{self.bucket.name}/{self.bucket.prefix}{name}"

    async def close(self) -> None:
        await self.bucket.close()

    async def _remove_abandoned(self) -> None:
        """Backups begun over a day ago and never finished: their process died before it could abort."""
        finished = set(await self.names())
        now = datetime.now(UTC)
        for name in await self._folders():
            started = _started(name)
            if name not in finished and started and (now - started).total_seconds() > ABANDONED_SECONDS:
                await _delete_all(self.bucket, await self.bucket.listed(name + "/"))


def _bucket_location(location: str) -> tuple[str, str]:
    """ "s3://bucket/some/prefix" → ("bucket", "some/prefix/")."""
    bucket, _, prefix = location.removeprefix(BUCKET_SCHEME).partition("/")
    prefix = prefix.strip("/")
    return bucket, prefix + "/" if prefix else ""


def target_for(location: str, storage: StorageConfig) -> BackupTarget:
    """The target a configured location names: "s3://bucket/prefix", or a directory."""
    if location.startswith(BUCKET_SCHEME):
        return BucketTarget(storage, *_bucket_location(location))
    return DirectoryTarget(location)


def open_backup(where: str, configured: str, storage: StorageConfig) -> tuple[BackupTarget, str]:
    """A backup named on the command line: a backup folder's path, a backup's "s3://bucket/prefix/name", or
    the name of one in the configured target."""
    if where.startswith(BUCKET_SCHEME):
        location, _, name = where.rstrip("/").rpartition("/")
        return target_for(location, storage), name
    path = Path(where)
    if (path / MANIFEST).is_file():
        return DirectoryTarget(path.resolve().parent), path.resolve().name
    return target_for(configured, storage), where
