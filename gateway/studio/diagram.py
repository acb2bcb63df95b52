"""The draft's diagram as SVG for the studio: the very DOT source `gateway graph` draws
(`gateway.catalog.graph.dot`), each step's box a link to `#step-<id>` so the studio's
page can take an author from a box to the step's form.

Graphviz escapes what authors wrote, and the picture is cleaned all the same before it is
served inline: no script, no event handler, no link leaving the page. `dot` runs under a
timeout, as the CLI runs it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from dialogs.compiler import CompiledService
from gateway.catalog.graph import GraphError, dot, drawn

DOT_SECONDS = 10.0  # a draft's diagram takes well under a second
SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
# Graphviz's `\N` is the node's name: every step's box links to its own anchor.
NODE_LINKS = '  node [href="#step-\\N", target="_top", tooltip="\\N"];'
UNSAFE = frozenset({"script", "foreignObject", "iframe", "object", "embed"})
LINKS = (f"{{{XLINK}}}href", "href")

ET.register_namespace("", SVG)
ET.register_namespace("xlink", XLINK)


def linked_dot(service: CompiledService) -> str:
    """`gateway graph`'s DOT with a link on every step's box (the start point has none:
    it comes before the node default)."""
    lines = dot(service).splitlines()
    at = next((i for i, line in enumerate(lines) if line.lstrip().startswith("__start ")), 0)
    lines.insert(at + 1, NODE_LINKS)
    return "\n".join(lines) + "\n"


def svg(service: CompiledService, seconds: float = DOT_SECONDS) -> str:
    """The service's diagram, drawn by `dot` and cleaned. Raises GraphError without
    `dot`, when it fails or when it takes longer than `seconds`."""
    return cleaned(drawn(linked_dot(service), "svg", seconds).decode("utf-8"))


def cleaned(picture: str) -> str:
    """The SVG without what could run in the studio's page: scripts and embedded
    documents, `on...` handlers, links other than to an anchor of the page. The XML
    declaration and doctype are dropped too: the picture is served and shown inline."""
    try:
        root = ET.fromstring(picture)
    except ET.ParseError as exc:
        raise GraphError(f"dot drew something that is not SVG: {exc}") from exc
    _clean(root)
    return ET.tostring(root, encoding="unicode")


def _clean(element: ET.Element) -> None:
    for child in list(element):
        if _local(child.tag) in UNSAFE:
            element.remove(child)
        else:
            _clean(child)
    for name in list(element.attrib):
        value = element.attrib[name]
        if _local(name).lower().startswith("on") or (name in LINKS and not value.startswith("#")):
            del element.attrib[name]


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]
