"""Run the emulator on its own: python -m emulator --config emulator/example.toml --port 8090."""

from __future__ import annotations

import argparse
from pathlib import Path

from aiohttp import web

from emulator.app import create_app
from emulator.config import load_config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m emulator", description="A local WeCom for Relay.")
    parser.add_argument("--config", type=Path, required=True, help="TOML file (see emulator/example.toml)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args(argv)
    web.run_app(create_app(load_config(args.config)), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
