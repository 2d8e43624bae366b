"""The floor for the callback benchmark: a bare aiohttp app that reads the body and answers an empty 200.

No signature check, no decryption, no database, no access log: what aiohttp itself costs on this machine.
Run: python bench/bare_server.py --port 9100
"""

from __future__ import annotations

import argparse

from aiohttp import web


async def callback(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(status=200, text="")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/wecom/callback", callback)
    app.router.add_get("/healthz", healthz)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="bare aiohttp: POST /wecom/callback -> empty 200")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    web.run_app(create_app(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
