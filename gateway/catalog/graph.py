"""`gateway graph`: the service's own machine of moves, as a diagram.

The picture holds exactly the moves the engine takes: the states and transitions are read
from the compiled `transitions` machine (`get_triggers`, `get_transitions`), never worked
out again from the definition. Each step shows its question (the default language,
shortened) under its id; the ends are drawn apart (a double border, and Mermaid's `[*]`).

Mermaid text and Graphviz DOT source are written here and need nothing installed; SVG, PNG
and PDF pictures are drawn by Graphviz's `dot` program (Debian's `graphviz` package,
installed by `make graphviz`), and a missing `dot` is a `GraphError` that says so.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dialogs.compiler import EDIT, FAIL, CompiledService
from dialogs.steps import StepBase
from dialogs.text import DEFAULT_LANGUAGE, localise

LABEL_LENGTH = 40  # characters of a question shown under its step id: a readable box
SOURCE_FORMATS = {".mmd": "mermaid", ".mermaid": "mermaid", ".dot": "dot", ".gv": "dot"}
PICTURE_FORMATS = (".svg", ".png", ".pdf")  # drawn by graphviz's `dot`
DOT_SECONDS = 60  # a service's diagram takes well under a second; a hung `dot` must not hang us
INSTALL_HINT = (
    "install graphviz (Debian/Ubuntu: `sudo apt-get install graphviz`, or `make graphviz`), "
    "or write the source with --output flow.dot or flow.mmd, which needs nothing installed"
)


class GraphError(Exception):
    """Why a picture could not be written (the CLI prints it and exits 1)."""


@dataclass(frozen=True, slots=True)
class Move:
    """One transition of the machine, as drawn."""

    source: str
    dest: str
    trigger: str
    condition: str | None  # the branch's `if`, as written


def formats() -> list[str]:
    """The file extensions `--output` accepts."""
    return [*SOURCE_FORMATS, *PICTURE_FORMATS]


def moves(service: CompiledService) -> list[Move]:
    """The machine's transitions, in the order the engine tries them."""
    machine = service.machine
    found: list[Move] = []
    for source in service.order:
        for trigger in machine.get_triggers(source):
            for move in machine.get_transitions(trigger, source):
                if move.dest is None:
                    continue
                names = [
                    c.func.__name__ if c.target else f"not ({c.func.__name__})"
                    for c in move.conditions
                    if callable(c.func)
                ]
                condition = " and ".join(names) or None
                found.append(Move(source, move.dest, trigger, condition))
    return found


def question(step: StepBase, limit: int = LABEL_LENGTH) -> str:
    """What the step says, in the default language, shortened to one readable line.

    Template tags are left out (`{% if %}`) and inserted values shown as `…`: the diagram is
    about the flow, not the wording of one case.
    """
    text = localise(step.message(), DEFAULT_LANGUAGE)
    if not text:
        return f"({getattr(step, 'type', step.kind)})"  # a lookup or a submission says nothing
    text = re.sub(r"\{%.*?%\}", "", text, flags=re.S)
    text = re.sub(r"\{\{.*?\}\}", "…", text, flags=re.S)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def ends(service: CompiledService) -> list[str]:
    """The steps a conversation ends at."""
    return [name for name in service.order if service.steps[name].kind == "final"]


_MERMAID_SAFE = str.maketrans(
    {'"': "'", ";": ",", "#": "No.", "{": "(", "}": ")", "<": "(", ">": ")"}
)


def _title(service: CompiledService) -> str:
    return f"{localise(service.definition.title, DEFAULT_LANGUAGE)} (v{service.version})"


def mermaid(service: CompiledService) -> str:
    """The service as a Mermaid state diagram (paste into any Markdown viewer)."""

    def clean(text: str) -> str:  # what Mermaid would read as syntax in a description
        return text.translate(_MERMAID_SAFE)

    lines = ["---", f"title: {clean(_title(service))}", "---", "stateDiagram-v2", "  direction LR"]
    lines += [f"  {name} : {clean(question(service.steps[name]))}" for name in service.order]
    lines.append(f"  [*] --> {service.start}")
    for move in moves(service):
        label = move.trigger + (f" [{move.condition}]" if move.condition else "")
        lines.append(f"  {move.source} --> {move.dest}: {label}")
    finals = ends(service)
    lines += [f"  {name} --> [*]" for name in finals]
    if finals:
        lines.append("  classDef ending stroke-width:4px,font-weight:bold")
        lines.append(f"  class {','.join(finals)} ending")
    return "\n".join(lines)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(service: CompiledService) -> str:
    """The service as Graphviz DOT source (`dot -Tsvg` draws it)."""
    finals = set(ends(service))
    lines = [
        f"digraph {_quoted(service.id)} {{",
        f"  graph [label={_quoted(_title(service))}, labelloc=t, rankdir=LR];",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
        "  __start [shape=point, width=0.15];",
    ]
    for name in service.order:
        label = _quoted(f"{name}\n{question(service.steps[name])}").replace("\n", "\\n")
        # An end: a double border, bold (the conversation stops there).
        shape = ', peripheries=2, style="rounded,bold"' if name in finals else ""
        lines.append(f"  {_quoted(name)} [label={label}{shape}];")
    lines.append(f"  __start -> {_quoted(service.start)};")
    for move in moves(service):
        label = move.trigger + (f" [{move.condition}]" if move.condition else "")
        style = {EDIT: ", style=dashed", FAIL: ", color=firebrick"}.get(move.trigger, "")
        edge = f"{_quoted(move.source)} -> {_quoted(move.dest)}"
        lines.append(f"  {edge} [label={_quoted(label)}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def write(service: CompiledService, output: Path) -> str:
    """Write the diagram in the format `output`'s extension names; says what it wrote.

    Raises GraphError for an unknown extension, a missing `dot`, or `dot` failing.
    """
    suffix = output.suffix.lower()
    source = SOURCE_FORMATS.get(suffix)
    if source is not None:
        text = mermaid(service) + "\n" if source == "mermaid" else dot(service)
        output.write_text(text, encoding="utf-8")
        return f"wrote {output} ({source} source)"
    if suffix not in PICTURE_FORMATS:
        raise GraphError(
            f"cannot write {output}: unknown format {suffix or '(none)'!r}; "
            f"use one of {', '.join(formats())}"
        )
    try:
        output.write_bytes(drawn(dot(service), suffix[1:]))
    except GraphError as exc:
        raise GraphError(f"cannot draw {output}: {exc}") from exc
    return f"wrote {output}"


def drawn(source: str, picture_format: str, seconds: float = DOT_SECONDS) -> bytes:
    """`source` (DOT) drawn by graphviz's `dot` as `picture_format` (svg, png, pdf).
    Raises GraphError without `dot`, when it fails or takes longer than `seconds`."""
    program = shutil.which("dot")
    if program is None:
        raise GraphError(f"graphviz's `dot` program is not installed; {INSTALL_HINT}")
    try:
        done = subprocess.run(
            [program, f"-T{picture_format}"],
            input=source.encode(),
            capture_output=True,
            check=True,
            timeout=seconds,
        )
    except subprocess.CalledProcessError as exc:
        reason = exc.stderr.decode(errors="replace").strip() or f"exit status {exc.returncode}"
        raise GraphError(f"dot failed: {reason}") from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GraphError(f"dot did not draw the diagram: {exc}") from exc
    return done.stdout
