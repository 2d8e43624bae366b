"""Temporary media (media/upload, media/get): bytes kept for 3 days like WeCom's media_id."""

from __future__ import annotations

import mimetypes
import secrets
from dataclasses import dataclass
from enum import StrEnum

from emulator.clock import Clock

MEDIA_TTL = 3 * 24 * 3600
MIN_SIZE = 6  # WeCom wants more than 5 bytes
MB = 1024 * 1024


class MediaType(StrEnum):
    IMAGE = "image"
    VOICE = "voice"
    VIDEO = "video"
    FILE = "file"


# The protocol doc's limits; image follows the 10 MB figure (some copies say 2 MB).
MAX_SIZE: dict[MediaType, int] = {
    MediaType.IMAGE: 10 * MB,
    MediaType.VOICE: 2 * MB,
    MediaType.VIDEO: 10 * MB,
    MediaType.FILE: 20 * MB,
}


@dataclass(frozen=True)
class Media:
    media_id: str
    type: MediaType
    data: bytes
    filename: str
    content_type: str
    created_at: int


def guess_content_type(filename: str, declared: str | None) -> str:
    if declared and declared != "application/octet-stream":
        return declared
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or "application/octet-stream"


class MediaStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._items: dict[str, Media] = {}

    def put(self, *, data: bytes, filename: str, type: MediaType, content_type: str | None = None) -> Media:
        # Real media_ids are long opaque strings starting with a digit or letter.
        media_id = "3" + secrets.token_urlsafe(40).replace("-", "a").replace("_", "b")
        media = Media(
            media_id=media_id,
            type=type,
            data=data,
            filename=filename or f"{media_id}.bin",
            content_type=guess_content_type(filename, content_type),
            created_at=int(self._clock.now()),
        )
        self._items[media_id] = media
        return media

    def get(self, media_id: str) -> Media | None:
        media = self._items.get(media_id)
        if media is None or media.created_at + MEDIA_TTL <= self._clock.now():
            return None
        return media
