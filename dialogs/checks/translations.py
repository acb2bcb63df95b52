"""W240/W241: texts missing a declared language, or given in an undeclared one.

Warnings: a missing translation falls back to English, and an undeclared one is never
shown; neither breaks a conversation, but both are usually an oversight. A step missing a
language usually misses it in every text (a shared list of 20 dzongkhags, say), so W240
is one warning per step naming its languages and texts, not one per text and language;
`missing_by_language` counts the texts, for the totals `gateway check` prints.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator

from dialogs.compiler import definition_texts
from dialogs.definition import ServiceDefinition
from dialogs.loader import Loaded
from dialogs.problems import Problem
from dialogs.text import DEFAULT_LANGUAGE, languages_of

CODES = ("W240", "W241")

Path = tuple[str | int, ...]


def missing_translations(definition: ServiceDefinition) -> Iterator[tuple[Path, list[str]]]:
    """Every text lacking a declared language other than the default, with where it is
    written and those languages (a text without the default language is an error of its
    own, `dialogs.checks.default_language`)."""
    declared = set(definition.languages) - {DEFAULT_LANGUAGE}
    for path, text in definition_texts(definition):
        missing = sorted(declared - languages_of(text))
        if missing:
            yield path, missing


def missing_by_language(definition: ServiceDefinition) -> Counter[str]:
    """How many texts lack each declared language."""
    return Counter(lang for _, missing in missing_translations(definition) for lang in missing)


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    declared = set(definition.languages)
    problems: list[Problem] = []
    groups: dict[Path, list[tuple[Path, list[str]]]] = {}
    for path, missing in missing_translations(definition):
        groups.setdefault(_owner(path), []).append((path, missing))
    for owner, texts in groups.items():
        problems.append(
            loaded.at(
                texts[0][0],  # the first text to translate: where the author starts
                "W240",
                f"{_named(definition, owner)}: no translation in {_languages(owner, texts)};"
                " English is shown instead",
                "Write each text as `{"
                + ", ".join(f"{lang}: ..." for lang in sorted(declared))
                + "}`.",
            )
        )
    for path, text in definition_texts(definition):
        if _in_shared_list(loaded, path):
            continue  # a shared list serves every service, in more languages than some offer
        for lang in sorted(languages_of(text) - declared):
            problems.append(_undeclared(loaded, [*path, lang], lang))
    for name in ("keywords", "examples"):
        for lang in sorted(set(getattr(definition, name)) - declared):
            problems.append(_undeclared(loaded, [name, lang], lang))
    return problems


def _owner(path: Path) -> Path:
    """What a text belongs to: its step (`steps.N`), else its top-level field."""
    return path[:2] if path[0] == "steps" else path[:1]


def _named(definition: ServiceDefinition, owner: Path) -> str:
    if owner[0] == "steps" and isinstance(owner[1], int):
        return f"step {definition.step_list[owner[1]].id!r}"
    return f"`{owner[0]}`"


def _languages(owner: Path, texts: list[tuple[Path, list[str]]]) -> str:
    """`dz (prompt, options ×20), fr (help)`: each language with the texts lacking it."""
    fields: dict[str, Counter[str]] = {}
    for path, missing in texts:
        field = str(path[len(owner)]) if len(path) > len(owner) else str(path[0])
        for lang in missing:
            fields.setdefault(lang, Counter())[field] += 1
    return ", ".join(
        f"{lang} ({', '.join(f if n == 1 else f'{f} ×{n}' for f, n in counted.items())})"
        for lang, counted in sorted(fields.items())
    )


def _in_shared_list(loaded: Loaded, path: Path) -> bool:
    index = path[1] if len(path) > 2 and path[2] == "options" else None
    return isinstance(index, int) and loaded.options_from_list(index)


def _undeclared(loaded: Loaded, path: list[str | int], lang: str) -> Problem:
    return loaded.at(
        path,
        "W241",
        f"language {lang!r} is not in `languages:`, so this is never shown",
        f"Add {lang} to `languages:` or remove this translation.",
        key=True,
    )


def missing_totals(definitions: Iterable[ServiceDefinition]) -> list[str]:
    """`dz: 14 texts missing`, a line per language, over every definition."""
    total: Counter[str] = Counter()
    for definition in definitions:
        total += missing_by_language(definition)
    return [f"{lang}: {count} texts missing" for lang, count in sorted(total.items())]
