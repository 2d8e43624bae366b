"""The lifecycle's documentation is generated from its table and kept current; every page the table
names exists."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from models import OrderState
from tests.support import World
from workflow.dealer_lifecycle import DEALER_ORDER, DEALER_PIECE
from workflow.lead_lifecycle import LEAD
from workflow.lifecycle_doc import documents, machine_document, mermaid
from workflow.order_lifecycle import ORDER
from workflow.piece_lifecycle import PIECE
from workflow.ticket_lifecycle import TICKET

DOC = Path(__file__).parent.parent / "docs" / "lifecycle.md"


def test_the_document_is_the_tables() -> None:
    assert DOC.read_text(encoding="utf-8") == documents(), "run: relay lifecycle > docs/lifecycle.md"


def _reached(diagram: str) -> set[str]:
    arrows = [line.split("-->") for line in diagram.splitlines() if "-->" in line]
    edges = {(a.strip(), b.split(":")[0].strip()) for a, b in arrows}
    reached, frontier = {"[*]"}, ["[*]"]
    while frontier:
        here = frontier.pop()
        for a, b in edges:
            if a == here and b not in reached:
                reached.add(b)
                frontier.append(b)
    return reached


def test_the_diagram_reaches_every_state_from_the_start() -> None:
    assert {s.value for s in OrderState} <= _reached(mermaid(ORDER))


def test_every_other_lifecycle_reaches_each_of_its_states() -> None:
    for machine in (PIECE, LEAD, TICKET, DEALER_ORDER, DEALER_PIECE):
        assert {s.value for s in machine.states} <= _reached(machine_document(machine)), machine.name


async def test_every_page_the_table_names_is_served(world: World) -> None:
    pages = {t.page for t in ORDER if t.page is not None}
    async with aiohttp.ClientSession() as http:
        for page in pages:
            # Unsigned: a served page answers by sending the member to WeCom's sign-in, not 404.
            async with http.get(f"{world.relay_url}{page.url('ANY1')}", allow_redirects=False) as resp:
                assert resp.status == 302, page
