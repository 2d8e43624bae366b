"""Jinja2 rendering for the H5 pages: autoescaped, templates loaded once."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from infra.timeutil import fmt_full_time, fmt_time

TEMPLATES = Path(__file__).parent / "templates"


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["time"] = fmt_time
    env.filters["full_time"] = fmt_full_time
    return env


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    from webviews.auth import STAFF

    staff = request.get(STAFF)
    html = environment().get_template(template).render(staff=staff, **context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
