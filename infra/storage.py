"""Content-addressed file storage: a file is stored once under its sha256, images with a thumbnail.

Types are judged by content, never by the name or the Content-Type a client claims.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from PIL import Image, ImageOps, UnidentifiedImageError

from infra.bucket import Bucket, Disk, file_key
from infra.errors import UserError

T = TypeVar("T")
THUMB_SIZE = (480, 480)
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
# A photo or drawing larger than this is refused from its header, before any pixel is decoded: a
# 400 KB PNG can declare 10000x10000 pixels and take a gigabyte to decode. 50 Mpx holds a 48 MP phone photo.
MAX_IMAGE_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS  # and Pillow's own guard for any other caller
# Pillow warns on opening what check_pixels then refuses undecoded: the warning says nothing more.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
# Decoding takes memory in proportion to the pixels: at most this many images at once per process.
DECODES_AT_ONCE = 2


class RejectedFile(UserError):
    """The file is refused; the message is shown to staff as is."""

    def __init__(self, message: str, field: str = "file") -> None:
        super().__init__(message, field)


class ImageTooLarge(RejectedFile):
    """An image whose header declares more pixels than Relay decodes."""


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    content_type: str
    has_thumbnail: bool


def sniff_document(data: bytes) -> str | None:
    """Drawings come as PDF or CAD as well as images."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data[:4] == b"AC10" and data[4:6].isdigit():
        return "image/vnd.dwg"
    head = data[:2048].lstrip()
    if head.startswith(b"0\r\nSECTION") or head.startswith(b"0\nSECTION") or b"\nSECTION" in head[:64]:
        return "image/vnd.dxf"
    return None


# Office Open XML files are ZIP archives; the part folder inside says which kind (ECMA-376 part 2).
OFFICE_TYPES = {
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def sniff_office(data: bytes) -> str | None:
    """An Excel, Word or PowerPoint file (xlsx/docx/pptx), judged by the archive's parts, not its name."""
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()  # the central directory only: nothing is decompressed
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    for folder, kind in OFFICE_TYPES.items():
        if any(name.startswith(folder) for name in names):
            return kind
    return None


def check_pixels(img: Image.Image, limit: int = MAX_IMAGE_PIXELS) -> None:
    """Refuse an image by the size its header declares (Image.open reads only the header)."""
    width, height = img.size
    if width * height > limit:
        raise ImageTooLarge(f"图片尺寸太大（{width}×{height}），请发送 {limit // 1_000_000} 百万像素以内的图片")


def _image_info(data: bytes) -> tuple[str, bytes]:
    """Verify an image fully and make its thumbnail (CPU work: run in a thread)."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            check_pixels(probe)
            kind = probe.format
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.draft("RGB", THUMB_SIZE)  # a JPEG decodes at the scale the thumbnail needs, not in full
            upright = ImageOps.exif_transpose(img)
            upright.thumbnail(THUMB_SIZE)
            if upright.mode in ("RGBA", "LA", "PA", "P") or "transparency" in upright.info:
                # JPEG has no alpha: lay transparent parts (a signature's background) on white, not black.
                rgba = upright.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                upright = flat
            out = io.BytesIO()
            upright.convert("RGB").save(out, "JPEG", quality=80)
    except ImageTooLarge:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError, ValueError) as exc:
        raise RejectedFile("文件不是有效的图片（支持 JPG、PNG、GIF、WEBP）") from exc
    if kind not in IMAGE_TYPES:
        raise RejectedFile("文件不是有效的图片（支持 JPG、PNG、GIF、WEBP）")
    return IMAGE_TYPES[kind], out.getvalue()


class FileStore:
    """Photos, drawings, signatures and charts, on this machine's disk or in a bucket (infra/bucket.py)."""

    def __init__(self, backend: Disk | Bucket, *, max_image_bytes: int, max_file_bytes: int) -> None:
        self._decoding = asyncio.Semaphore(DECODES_AT_ONCE)
        self.backend = backend
        self.max_image_bytes = max_image_bytes
        self.max_file_bytes = max_file_bytes

    async def read(self, sha256: str, *, thumbnail: bool = False) -> bytes:
        """The file's bytes; FileNotFoundError if it is not stored (or was erased)."""
        return await self.backend.get(file_key(sha256, thumbnail=thumbnail))

    async def exists(self, sha256: str) -> bool:
        return await self.backend.exists(file_key(sha256))

    async def remove(self, sha256: str) -> None:
        """The file and its thumbnail: once no row refers to them (erasure)."""
        await self.backend.delete(file_key(sha256))
        await self.backend.delete(file_key(sha256, thumbnail=True))

    async def location(
        self, sha256: str, *, thumbnail: bool, content_type: str, cache: str, download_name: str | None = None
    ) -> Path | str:
        """Where to send a browser for the file: its path on this disk (served by Relay), or a presigned
        link to the bucket (served by the bucket). Asked only after the requester's right to it is checked."""
        key = file_key(sha256, thumbnail=thumbnail)
        if isinstance(self.backend, Disk):
            return self.backend.path(key)
        return await self.backend.presigned(key, content_type=content_type, cache=cache, download_name=download_name)

    async def close(self) -> None:
        await self.backend.close()

    async def put_image(self, data: bytes) -> StoredFile:
        if len(data) > self.max_image_bytes:
            raise RejectedFile(
                f"图片太大（{len(data) / 1048576:.1f} MB），请发送 {self.max_image_bytes // 1048576} MB 以内的图片"
            )
        if len(data) < 6:
            raise RejectedFile("文件是空的")
        content_type, thumb = await self.decode(_image_info, data)
        return await self._store(data, content_type, thumb)

    async def decode(self, work: Callable[[bytes], T], data: bytes) -> T:
        """Image decoding, in a thread and a few at a time: a burst of large photos queues, it does not
        take the process's memory."""
        async with self._decoding:
            return await asyncio.to_thread(work, data)

    async def put_document(self, data: bytes) -> StoredFile:
        """An image, a PDF or a CAD drawing (dwg/dxf)."""
        if len(data) > self.max_file_bytes:
            raise RejectedFile(f"文件太大，请上传 {self.max_file_bytes // 1048576} MB 以内的文件")
        kind = sniff_document(data)
        if kind is None:
            try:
                return await self.put_image(data)
            except ImageTooLarge:
                raise
            except RejectedFile as exc:
                raise RejectedFile("不支持的文件类型：请上传图片、PDF 或 CAD 图纸（dwg/dxf）") from exc
        return await self._store(data, kind, None)

    async def put_publication(self, data: bytes) -> StoredFile:
        """A file handed out to read (a price list, a brochure): PDF, Excel, Word, PowerPoint or an image."""
        if len(data) > self.max_file_bytes:
            raise RejectedFile(f"文件太大，请上传 {self.max_file_bytes // 1048576} MB 以内的文件")
        kind = await asyncio.to_thread(sniff_office, data) if data.startswith(b"PK") else None
        if kind is not None:
            return await self._store(data, kind, None)
        if data.startswith(b"%PDF-"):
            return await self._store(data, "application/pdf", None)
        try:
            return await self.put_image(data)
        except ImageTooLarge:
            raise
        except RejectedFile as exc:
            raise RejectedFile("不支持的文件类型：请上传 PDF、Excel、Word、PPT 或图片") from exc

    async def _store(self, data: bytes, content_type: str, thumb: bytes | None) -> StoredFile:
        """Before any transaction that records the file opens: an upload may take seconds."""
        digest = hashlib.sha256(data).hexdigest()
        await self.backend.put(file_key(digest), data, content_type)
        if thumb is not None:
            await self.backend.put(file_key(digest, thumbnail=True), thumb, "image/jpeg")
        return StoredFile(digest, len(data), content_type, thumb is not None)
