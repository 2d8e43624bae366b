"""Where the CPU goes, measured in one process (so the machine's other load barely moves the figures).

1. The WeCom callback: `--callbacks` signed image callbacks posted to Relay's app (web only, SQLite) through
   aiohttp's test client; CPU per callback (client and server together) and cProfile's top functions.
2. A site photo (1280×960 JPEG ≈ 180 KB): CPU to verify it and make its thumbnail (infra.storage), the
   work each photo a worker handles costs besides downloading and storing it.

    .venv/bin/python bench/cpu_costs.py [--callbacks 500]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import pstats
import sys
import tempfile
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from callback_bench import Corp, image_callbacks  # noqa: E402  (bench/ is the script's folder)
from load_bench import site_photo

from infra.storage import _image_info
from relay.app import init_app
from relay.config import load_config
from relay.db import migrate


async def callbacks(count: int, top: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="relay-cpu-"))
    corp = Corp.random()
    url = f"sqlite://{tmp / 'relay.sqlite3'}"
    await migrate(url)
    config = load_config(
        None,
        env={},
        overrides={
            "database": {"url": url},
            "server": {"background": False},
            "wecom": {
                "corp_id": corp.corp_id,
                "agent_id": corp.agent_id,
                "secret": corp.secret,
                "token": corp.token,
                "encoding_aes_key": corp.encoding_aes_key,
                "api_base": "http://127.0.0.1:9/cgi-bin/",
            },
            "security": {"secret_key": "k" * 40, "pii_key": "p" * 40},
            "storage": {"path": str(tmp / "files")},
        },
    )
    client = TestClient(TestServer(init_app(config)))
    await client.start_server()
    try:
        sealed = image_callbacks(corp, userid="sunceliang", media_ids=["m"], count=count + 100, emu_url="http://x")
        for cb in sealed[:100]:  # warm
            async with client.post("/wecom/callback", params=cb.params, data=cb.body) as resp:
                await resp.read()
        profile = cProfile.Profile()
        cpu = time.process_time()
        profile.enable()
        for cb in sealed[100:]:
            async with client.post("/wecom/callback", params=cb.params, data=cb.body) as resp:
                await resp.read()
                assert resp.status == 200
        profile.disable()
        print(f"callback: {(time.process_time() - cpu) / count * 1000:.2f} ms CPU each (client and server)")
        pstats.Stats(profile).sort_stats("tottime").print_stats(top)
    finally:
        await client.close()


def photos(count: int) -> None:
    samples = [site_photo(seed) for seed in range(4)]
    for name, work in (("verify + thumbnail", _image_info), ("sha256", lambda d: hashlib.sha256(d).hexdigest())):
        cpu = time.process_time()
        for i in range(count):
            work(samples[i % len(samples)])
        print(f"photo {name}: {(time.process_time() - cpu) / count * 1000:.1f} ms CPU each")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--callbacks", type=int, default=500)
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--top", type=int, default=20, help="functions shown from the profile")
    args = parser.parse_args(argv)
    asyncio.run(callbacks(args.callbacks, args.top))
    photos(args.photos)
    return 0


if __name__ == "__main__":
    sys.exit(main())
