"""`gateway graph`: the service's own machine of moves, drawn by transitions' GraphMachine.

Mermaid text always; SVG or PNG through graphviz when both its Python package and the
`dot` program are installed. The picture holds exactly the moves the engine takes: the
states and transitions are read from the compiled machine (`get_triggers`,
`get_transitions`), never worked out again from the definition.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Literal

from transitions.extensions import GraphMachine

from dialogs.compiler import CompiledService


def _picture(service: CompiledService, engine: Literal["graphviz", "mermaid"]) -> Any:
    title = service.definition.title
    name = title if isinstance(title, str) else title.get("en", service.id)
    machine = service.machine
    picture = GraphMachine(
        states=list(service.order),
        initial=machine.initial,
        auto_transitions=False,
        graph_engine=engine,
        show_conditions=True,
        title=f"{name} (v{service.version})",
    )
    for trigger in machine.get_triggers(*service.order):
        for move in machine.get_transitions(trigger):
            conditions = [condition.func for condition in move.conditions]
            picture.add_transition(trigger, move.source, move.dest, conditions=conditions)
    return picture


def mermaid(service: CompiledService) -> str:
    """The service as a Mermaid state diagram (paste into any Markdown viewer)."""
    text = str(_picture(service, "mermaid").get_graph().draw(None)).rstrip()
    # transitions writes the title alone in the front matter; Mermaid wants `title: ...`.
    head, separator, rest = text.partition("\n---\n")
    if head.startswith("---\n") and separator and ":" not in head[4:]:
        text = f"---\ntitle: {head[4:]}\n---\n{rest}"
    return text


def draw(service: CompiledService, output: Path) -> str:
    """Write an SVG/PNG picture; says why not when graphviz is missing."""
    if shutil.which("dot") is None:
        return "graphviz is not installed (apt-get install graphviz); Mermaid text printed only"
    try:
        import graphviz  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return "the graphviz Python package is missing (pip install graphviz)"
    graph = _picture(service, "graphviz").get_graph()
    graph.draw(str(output), format=output.suffix.lstrip(".") or "svg", prog="dot")
    return f"wrote {output}"
