"""The API's OpenAPI document is what the API does: schemathesis (its command line, against the running
test server) sends every operation generated requests, valid and invalid, with a token holding every
scope, and checks that nothing answers 5xx and that every answer (status, content type, headers, body)
is one the document describes. Bounded: 25 generated requests per operation (PHASES below)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.support import World
from tests.test_api import ADMIN, new_order_body, token
from workflow.orders import ItemInput, create_order
from workflow.tokens import SCOPES

# Generated requests (valid and invalid, 25 per operation: about 650, 10 to 30 s). The coverage phase adds
# every boundary and every kind of wrong value (about 2000 cases, a minute or more):
# RELAY_TEST_SCHEMATHESIS_PHASES=examples,coverage,fuzzing.
PHASES = os.environ.get("RELAY_TEST_SCHEMATHESIS_PHASES", "examples,fuzzing")
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)


# On production's backend only (ONE_BACKEND in tests/conftest.py): what is checked is the API's answers
# against its document, which Relay's validation shapes before any query; the operations themselves run
# on both backends in the API's tests (tests/test_api.py, test_bad_input.py, test_money_path.py and the
# others that call /api/v1). The second pass on SQLite was 23 s of CPU and 36 s of a worker.
@pytest.mark.one_backend
async def test_every_operation_answers_as_documented(world: World, tmp_path: Path) -> None:
    body = await new_order_body("ST-0001")
    await create_order(
        actor=await world.staff("zhangxiaoshou"),
        number=body["number"],
        customer_name=body["customer_name"],
        phone=body["phone"],
        address=body["address"],
        items=[ItemInput(product_id=i["product_id"]) for i in body["items"]],
        expected_measure_date=None,
    )
    secret = await token(*SCOPES, acts_as=ADMIN)
    report, events = tmp_path / "schemathesis.json", tmp_path / "events.ndjson"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{world.relay_url}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {secret}",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        "25",
        "--phases",
        PHASES,
        "--seed",
        "15",
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "json,ndjson",
        "--report-json-path",
        str(report),
        "--report-ndjson-path",
        str(events),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": os.pathsep.join(sys.path)},
        cwd=tmp_path,  # schemathesis keeps a cache in its working directory
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-6000:]
    run = json.loads(report.read_text())
    assert run["operations"]["tested"] == run["operations"]["total"] == 31
    assert run["failures"] == [] and run["errors"] == [] and run["test_cases"]["with_failures"] == 0
    checks = Counter(
        (check["name"], check["status"])
        for line in events.read_text().splitlines()
        if "ScenarioFinished" in (event := json.loads(line))
        for case in (event["ScenarioFinished"]["recorder"].get("checks") or {}).values()
        for check in case
    )
    assert {status for _, status in checks} == {"success"} and {name for name, _ in checks} == set(CHECKS)
    # The figures for the record (`pytest -s` shows them).
    print(
        f"schemathesis: {run['operations']['tested']} operations, {run['test_cases']['generated']} cases, "
        f"{sum(checks.values())} checks passed ({', '.join(f'{n} {c}' for (n, _), c in sorted(checks.items()))})"
    )
