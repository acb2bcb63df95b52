"""The draft's diagram as SVG: `gateway graph`'s picture, each step's box a link to
`#step-<id>`, with nothing that could run in the studio's page."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dialogs.compiler import CompiledService
from gateway.catalog.graph import GraphError, dot
from gateway.catalog.repository import load_repository
from gateway.studio.diagram import cleaned, linked_dot, svg

SERVICES = Path(__file__).resolve().parents[3] / "services"
SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


@pytest.fixture(scope="module")
def permit() -> CompiledService:
    service = load_repository([SERVICES]).catalog.get("bus-service-permit")
    assert service is not None
    return service


def test_the_dot_source_is_the_graph_commands_with_links(permit: CompiledService) -> None:
    linked = linked_dot(permit)
    assert linked.replace('  node [href="#step-\\N", target="_top", tooltip="\\N"];\n', "") == (
        dot(permit)
    )
    # After the start point: the start has no link.
    assert linked.index("__start [") < linked.index("href=") < linked.index('"id_type" [')


def test_every_step_is_a_link_to_its_anchor(graphviz: None, permit: CompiledService) -> None:
    root = ET.fromstring(svg(permit))
    links = [a.get(XLINK_HREF, "") for a in root.iter(f"{SVG}a")]
    assert sorted(links) == sorted(f"#step-{name}" for name in permit.order)
    assert not [e for e in root.iter() if e.tag.endswith("script")]


def test_scripts_handlers_and_outside_links_are_taken_out() -> None:
    picture = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<script>alert(1)</script><g onclick="alert(2)"><a xlink:href="javascript:alert(3)">'
        '<text>x</text></a><a href="#step-cid"><text>cid</text></a>'
        "<foreignObject><div>html</div></foreignObject></g></svg>"
    )
    out = cleaned(picture)
    assert not re.search(r"script|onclick|javascript|foreignObject", out)
    assert 'href="#step-cid"' in out


def test_what_is_not_svg_is_an_error() -> None:
    with pytest.raises(GraphError):
        cleaned("<svg")


def test_a_hung_dot_is_stopped(graphviz: None, permit: CompiledService) -> None:
    with pytest.raises(GraphError, match="did not draw"):
        svg(permit, seconds=0.000001)
