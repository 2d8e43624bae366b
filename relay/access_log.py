"""The access log, without secrets: a customer's signing link is a 7-day key to their order, and an
OAuth code or a callback's signature is a credential. The log keeps the method, the route, the
status, the size and the time, and shows secret parts as "***".

A WeCom callback that was taken (200) has no line of its own: at a burst of thousands a second the line
cost as much as storing the message, and /metrics counts them (relay_callbacks_total by outcome).
A refused callback is logged like any other request."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

# Query parameters whose values are credentials or signatures (WeCom OAuth, the callback, tokens).
SECRET_PARAMS = {"code", "access_token", "token", "msg_signature", "signature", "echostr"}
# Paths whose segment after the prefix is a credential: the customer's signing link and their order page's.
SECRET_PATHS = re.compile(r"^(/sign/|/c/)[^/]+")


def redact(path: str, query: str) -> str:
    shown = SECRET_PATHS.sub(r"\1***", path)
    if not query:
        return shown
    pairs = [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in parse_qsl(query, keep_blank_values=True)]
    return f"{shown}?{urlencode(pairs, safe='*')}"


CALLBACK_PATH = "/wecom/callback"


class RedactingAccessLogger(AbstractAccessLogger):
    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if response.status == 200 and request.method == "POST" and request.path == CALLBACK_PATH:
            return
        self.logger.info(
            '%s "%s %s" %s %s %.1fms',
            request.remote,
            request.method,
            redact(request.path, request.query_string),
            response.status,
            response.body_length,
            time * 1000,
        )
