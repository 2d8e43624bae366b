"""A local S3-compatible server for the tests: moto in server mode on a free port, speaking S3's own HTTP
protocol (signatures, presigned links, Content-MD5), as the WeCom emulator stands in for WeCom."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import boto3
from aiohttp.test_utils import unused_port
from moto.server import ThreadedMotoServer

KEYS = {"access_key": "relay-test", "secret_key": "relay-test-secret", "region": "us-east-1"}


class S3Server:
    def __init__(self) -> None:
        self.port = unused_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def start(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def client(self) -> Any:
        """boto3, for the test's own looks into the bucket (blocking, but local and small)."""
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=KEYS["region"],
            aws_access_key_id=KEYS["access_key"],
            aws_secret_access_key=KEYS["secret_key"],
        )

    def new_bucket(self) -> str:
        name = f"relay-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def storage(self, bucket: str, path: Path, prefix: str = "") -> dict[str, Any]:
        """The [storage] section of a Relay that keeps its files in `bucket` (`path` stays unused)."""
        return {
            "backend": "s3",
            "path": str(path),
            "bucket": bucket,
            "endpoint_url": self.url,
            "addressing_style": "path",
            "prefix": prefix,
            **KEYS,
        }

    def keys(self, bucket: str) -> dict[str, int]:
        """Every key in the bucket and its size."""
        found: dict[str, int] = {}
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket):
            found.update({o["Key"]: o["Size"] for o in page.get("Contents", [])})
        return found
