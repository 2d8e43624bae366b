"""Sending a stored file to a browser, after the page has checked that the requester may have it.

From local disk Relay serves the bytes itself. From a bucket it answers with a redirect to a presigned
link that works for `storage.presign_seconds`: the bytes go from the bucket to the phone, not through
Relay, and the redirect is never cached, so a link outlives the check that gave it by minutes at most.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from infra.runtime import runtime


async def stored_file(
    sha256: str,
    *,
    content_type: str | None,
    thumbnail: bool = False,
    cache: str = "private, max-age=86400",
    download_name: str | None = None,
) -> web.StreamResponse:
    """The file (or its thumbnail, always a JPEG), as `download_name` when given."""
    served_as = "image/jpeg" if thumbnail else content_type or "application/octet-stream"
    name = quote(download_name) if download_name is not None else None
    where = await runtime().files.location(
        sha256, thumbnail=thumbnail, content_type=served_as, cache=cache, download_name=name
    )
    if isinstance(where, str):
        raise web.HTTPFound(where, headers={"Cache-Control": "no-store"})
    response = web.FileResponse(where, headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"})
    response.content_type = served_as
    if name is not None:
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response
