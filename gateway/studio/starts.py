"""Where a new draft starts: a blank page, a copy of a running service, or a template.

Each start is YAML text, the form a draft is stored and read in. The templates
(`gateway/studio/templates/*.yaml`) are services in their own right, each passing
`gateway check`; a start writes the new service's id, title, version and reference prefix
over the values the template (or the copied file) holds, at their places in the text, so
its comments, order and quoting stay as written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from dialogs.definition import ServiceDefinition
from dialogs.loader import SharedList, load_text
from dialogs.steps.submit import SubmitStep
from dialogs.text import DEFAULT_LANGUAGE, localise

BLANK = "blank"
TEMPLATES = ("registration", "permit", "information")
PREFIX_LETTERS = 4  # a reference prefix is 2 to 4 capital letters (SubmitStep)


class StartError(ValueError):
    """A start that cannot be made (an unknown template, a copy with nothing to write
    over): said to the author as 4xx."""


@dataclass(frozen=True, slots=True)
class Template:
    """A template as the studio lists it: read from the template file itself."""

    name: str
    title: str
    description: str


def template_source(name: str) -> str:
    """The template's YAML text as shipped."""
    if name not in (BLANK, *TEMPLATES):
        raise StartError(f"no template {name!r}; choose one of {', '.join(TEMPLATES)}")
    folder = resources.files("gateway.studio") / "templates"
    return (folder / f"{name}.yaml").read_text(encoding="utf-8")


def templates() -> list[Template]:
    listed = []
    for name in TEMPLATES:
        raw = yaml.safe_load(template_source(name))
        listed.append(Template(name, str(raw["title"]), str(raw.get("description", ""))))
    return listed


def blank(service: str, title: str, version: int = 1) -> str:
    """A minimal service: one question and an end (it passes the checker)."""
    return rewritten(template_source(BLANK), service, title, version, None)


def from_template(name: str, service: str, title: str, prefix: str, version: int = 1) -> str:
    return rewritten(template_source(name), service, title, version, prefix)


def copied(
    source: str, original: str, service: str, title: str, prefix: str, version: int = 1
) -> str:
    """A running service's YAML as another service: its own id, title and prefix, and
    version 1 (a new service starts its own numbering)."""
    note = f"# A copy of {original}: change what differs (its keywords and examples too).\n"
    return note + rewritten(source, service, title, version, prefix)


def published_source(
    definition: ServiceDefinition, folder_text: str | None, lists: dict[str, SharedList]
) -> str:
    """The YAML of a published definition: the folder's file when it still holds that
    very definition (as its authors wrote it), else the definition written out."""
    if folder_text is not None:
        loaded = load_text(folder_text, f"{definition.id}.yaml", lists)
        if loaded.definition == definition:
            return folder_text
    data: dict[str, Any] = definition.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    for step in data.get("steps", []):
        if step.get("options_from"):
            step.pop("options", None)  # filled in from the shared list when it was loaded
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def prefixes(definition: ServiceDefinition) -> set[str]:
    """The reference prefixes a service gives."""
    return {s.reference_prefix for s in definition.step_list if isinstance(s, SubmitStep)}


def draft_prefixes(source: str, lists: dict[str, SharedList]) -> set[str]:
    """The reference prefixes a draft will give, once published (none while it does not
    load)."""
    loaded = load_text(source, "draft.yaml", lists)
    return prefixes(loaded.definition) if loaded.definition is not None else set()


def free_prefix(service: str, taken: Iterable[str]) -> str:
    """A prefix no running service uses: the id's initials (`BR` for business-registration,
    as the between-files check expects), else its letters, else a letter added."""
    used = set(taken)
    words = [w for w in service.split("-") if w]
    letters = "".join(c for c in service if c.isalpha()).upper()
    initials = "".join(w[0] for w in words if w[0].isalpha()).upper()[:PREFIX_LETTERS]
    candidates = [initials] if len(initials) >= 2 else []
    candidates += [letters[:n] for n in range(2, PREFIX_LETTERS + 1)]
    stem = (initials if len(initials) >= 2 else letters[:2] or "SV")[: PREFIX_LETTERS - 1]
    candidates += [stem.ljust(2, "X") + chr(c) for c in range(ord("A"), ord("Z") + 1)]
    for candidate in candidates:
        if 2 <= len(candidate) <= PREFIX_LETTERS and candidate not in used:
            return candidate
    raise StartError("no free reference prefix: name one")


def title_of(definition: ServiceDefinition) -> str:
    return localise(definition.title, DEFAULT_LANGUAGE)


# ---------------------------------------------------------------- writing over the text


def rewritten(source: str, service: str, title: str, version: int, prefix: str | None) -> str:
    """`source` with its id, title, version and every submit step's reference prefix
    replaced in place; the rest of the text is left as it was."""
    try:
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise StartError(f"the source is not YAML: {exc}") from exc
    if not isinstance(root, yaml.MappingNode):
        raise StartError("the source is not a definition")
    edits = [
        _edit(root, "id", _scalar(service)),
        _edit(root, "title", _scalar(title)),
        _edit(root, "version", str(version)),
    ]
    if prefix is not None:
        edits += [_edit(step, "reference_prefix", _scalar(prefix)) for step in _submits(root)]
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    return source


def _submits(root: yaml.MappingNode) -> Iterator[yaml.MappingNode]:
    found = _child(root, "steps")
    steps = found[1] if found else None
    if not isinstance(steps, yaml.SequenceNode):
        return
    for step in steps.value:
        kind = _child(step, "type") if isinstance(step, yaml.MappingNode) else None
        if kind is not None and isinstance(kind[1], yaml.ScalarNode) and kind[1].value == "submit":
            yield step


def _child(node: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def _edit(node: yaml.MappingNode, key: str, written: str) -> tuple[int, int, str]:
    """Replace from after the key to the end of its value (a block mapping such as a title
    per language included) with `: written`."""
    found = _child(node, key)
    if found is None:
        raise StartError(f"the source has no `{key}` to write over")
    key_node, value_node = found
    return key_node.end_mark.index, _end(value_node), ": " + written


def _end(node: yaml.Node) -> int:
    """Where a value's text ends. A block collection's own end runs on over the blank
    lines and comments after it: its last value's end is where its text stops."""
    if isinstance(node, yaml.CollectionNode) and not node.flow_style and node.value:
        last = node.value[-1]
        return _end(last[1] if isinstance(last, tuple) else last)
    return int(node.end_mark.index)


def _scalar(value: str) -> str:
    """`value` as a YAML scalar on one line: plain when YAML reads it back as this
    string, else quoted."""
    dumped = yaml.safe_dump(value, allow_unicode=True, width=10**6)
    return dumped.removesuffix("\n").removesuffix("\n...").rstrip("\n")
