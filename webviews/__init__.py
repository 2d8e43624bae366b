"""H5 pages and the JSON API."""

from __future__ import annotations

from aiohttp import web

from webviews import api, pages


def add_routes(app: web.Application) -> None:
    app.add_routes(pages.routes)
    app.add_routes(api.routes)
