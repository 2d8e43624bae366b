"""Jinja2 rendering for the H5 pages: autoescaped, templates loaded once."""

from __future__ import annotations

import asyncio
import functools
import io
from pathlib import Path
from typing import Any

import jinja2
import qrcode
from aiohttp import web
from markupsafe import Markup, escape

from infra.timeutil import fmt_full_time, fmt_time
from workflow import fields
from workflow.fields import FieldRule

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
    env.globals["constraints"] = constraints
    env.globals["rules"] = fields
    return env


def constraints(rule: FieldRule) -> Markup:
    """A field's rule as HTML constraint attributes, with the messages the page's script shows
    (templates/_validate.html): the browser checks what the server will check."""
    attrs = {"data-rule": rule.name}
    if rule.required:
        attrs.update({"required": "", "data-required": rule.required})
    if rule.max_length:
        attrs["maxlength"] = str(rule.max_length)
    if rule.pattern:
        attrs["pattern"] = rule.pattern
    if rule.mismatch:
        attrs["data-mismatch"] = rule.mismatch
    return Markup(" ".join(f'{key}="{escape(value)}"' if value else key for key, value in attrs.items()))


def render(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    from webviews.auth import STAFF

    staff = request.get(STAFF)
    html = environment().get_template(template).render(staff=staff, **context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


async def qr_png(link: str) -> web.Response:
    """A link as a QR code image to show on a page (drawn in a thread, never cached)."""

    def draw() -> bytes:
        out = io.BytesIO()
        qrcode.make(link, box_size=8, border=2).save(out)
        return out.getvalue()

    return web.Response(
        body=await asyncio.to_thread(draw), content_type="image/png", headers={"Cache-Control": "no-store"}
    )
