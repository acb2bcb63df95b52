"""`gateway graph`: the conversation drawn by transitions' GraphMachine.

Mermaid text always; SVG or PNG through graphviz when both its Python package and the
`dot` program are installed. Drawing builds a separate machine, never the running one.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Literal

from transitions.extensions import GraphMachine

from dialogs.compiler import CompiledService
from dialogs.steps.lookup import LookupStep


def _machine(service: CompiledService, engine: Literal["graphviz", "mermaid"]) -> Any:
    title = service.definition.title
    name = title if isinstance(title, str) else title.get("en", service.id)
    machine = GraphMachine(
        states=list(service.order),
        initial=service.start,
        auto_transitions=False,
        graph_engine=engine,
        show_conditions=True,
        title=f"{name} (v{service.version})",
    )
    for source, branches in service.branches.items():
        for branch in branches:
            machine.add_transition(
                "next", source, branch.goto, conditions=[branch.when] if branch.when else []
            )
    for name, step in service.steps.items():
        if isinstance(step, LookupStep):
            machine.add_transition("fail", name, step.on_error)
    for summary, fields in service.edit_targets.items():
        for field in fields:
            machine.add_transition("edit", summary, field)
    return machine


def mermaid(service: CompiledService) -> str:
    """The service as a Mermaid state diagram (paste into any Markdown viewer)."""
    text = str(_machine(service, "mermaid").get_graph().draw(None)).rstrip()
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
    graph = _machine(service, "graphviz").get_graph()
    graph.draw(str(output), format=output.suffix.lstrip(".") or "svg", prog="dot")
    return f"wrote {output}"
