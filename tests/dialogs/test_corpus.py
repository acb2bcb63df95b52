"""How many realistic authoring mistakes `gateway check` catches at the line (issue 16).

The corpus (tests/dialogs/corpus/) holds mutations of the shipped services: mistakes a civil
servant really makes (`mistakes.yaml`) and edits that must stay harmless (`harmless.yaml`).
Each is applied to a fresh copy of services/ and checked through the command line itself
(`gateway check <folder>`), so the figures are what an author sees, whatever module reports
them. A mistake counts as caught when an error or a warning names the mutated file at the
line where the mistake sits. A harmless edit must bring no error and no warning code the
untouched files do not already have.

Each entry is checked in a folder holding only its service's definition and tests with the
shared lists (the whole of services/ for the lists and for mistakes between services): that
is what makes two hundred runs of `gateway check` fit in half a minute.

Print the table: `python -m tests.dialogs.test_corpus` (or pytest with `-s`).
After editing the corpus, recompute each entry's `line` from its `at` text:
`python -m tests.dialogs.test_corpus --relocate` (then read the diff).
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from gateway.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "services"
CORPUS = Path(__file__).resolve().parent / "corpus"
MISTAKES = CORPUS / "mistakes.yaml"
HARMLESS = CORPUS / "harmless.yaml"

REQUIRED_SHARE = 0.95
FINDING = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>[EW]\d+) ")


@dataclass(frozen=True, order=True)
class Finding:
    """One `file:line:col: CODE` line of `gateway check`, the file relative to the folder."""

    file: str
    line: int
    code: str


@dataclass
class Outcome:
    """What `gateway check` said about one folder."""

    findings: list[Finding] = field(default_factory=list)
    crash: str = ""  # a traceback, or the unexpected exit code
    broken: str = ""  # the entry no longer applies to services/ (see the corpus test)

    def codes(self) -> Counter[tuple[str, str]]:
        return Counter((f.file, f.code) for f in self.findings)


def load_entries(path: Path) -> list[dict[str, Any]]:
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(entries, list)
    return entries


# --- applying a mutation --------------------------------------------------------------------


def _replace_once(text: str, find: str, replace: str, where: str) -> tuple[str, int]:
    """`text` with the single occurrence of `find` replaced, and where it started."""
    count = text.count(find)
    if count != 1:
        raise ValueError(f"{where}: `find` occurs {count} times, not once: {find!r}")
    start = text.index(find)
    return text[:start] + replace + text[start + len(find) :], start


def _transform(data: bytes, how: str) -> bytes:
    if how == "crlf":
        return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    if how == "trailing_whitespace":
        return b"\n".join(line + b"  " if line else line for line in data.split(b"\n"))
    raise ValueError(f"unknown transform {how!r}")


def mutated_text(entry: dict[str, Any], services: Path = SERVICES) -> tuple[str, int]:
    """The mutated text of the entry's `file` and the offset where the change starts."""
    source = services / entry.get("copy_from", entry["file"])
    text = source.read_text(encoding="utf-8")
    return _replace_once(text, entry["find"], entry["replace"], entry["id"])


def apply(entry: dict[str, Any], folder: Path) -> None:
    """Make the entry's change in `folder`, a copy of services/."""
    target = folder / entry["file"]
    if "transform" in entry:
        target.write_bytes(_transform(target.read_bytes(), entry["transform"]))
    else:
        text, _ = mutated_text(entry, folder)
        target.write_bytes(text.encode("utf-8"))
    for other in entry.get("also", []):
        path = folder / other["file"]
        text, _ = _replace_once(
            path.read_text(encoding="utf-8"), other["find"], other["replace"], entry["id"]
        )
        path.write_bytes(text.encode("utf-8"))


def expected_lines(entry: dict[str, Any]) -> list[int]:
    line = entry["line"]
    return list(line) if isinstance(line, list) else [line]


def locate(entry: dict[str, Any]) -> list[int]:
    """The lines of the entry's `at` texts in the mutated file: for each, the occurrence
    nearest the start of the change (a later one on a tie)."""
    text, start = mutated_text(entry)
    change_line = text.count("\n", 0, start) + 1
    wanted = entry["at"] if isinstance(entry["at"], list) else [entry["at"]]
    lines: list[int] = []
    for snippet in wanted:
        found = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(re.escape(snippet), text)]
        if not found:
            raise ValueError(f"{entry['id']}: `at` {snippet!r} is not in the mutated file")
        lines.append(min(found, key=lambda n: (abs(n - change_line), -n)))
    return lines


# --- running the checker --------------------------------------------------------------------


def run_check(folder: Path) -> Outcome:
    """`gateway check <folder>` as an author runs it; its findings, or how it crashed."""
    result = CliRunner().invoke(app, ["check", str(folder)])
    outcome = Outcome()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        outcome.crash = "".join(traceback.format_exception(result.exception))
    elif result.exit_code not in (0, 1):
        outcome.crash = f"exit code {result.exit_code}:\n{result.output}"
    for text in result.output.splitlines():
        match = FINDING.match(text)
        if match is None:
            continue
        path = Path(match["file"])
        relative = path.relative_to(folder) if path.is_relative_to(folder) else path
        outcome.findings.append(Finding(relative.as_posix(), int(match["line"]), match["code"]))
    return outcome


# Mistakes whose very nature is a conflict between two services.
CROSS_SERVICE = frozenset({"duplicate_id", "reference_prefix_shared"})


def scope(entry: dict[str, Any]) -> str:
    """The service whose files (with the shared lists) suffice to check the entry, or "" for
    the whole folder. Checking one service's files keeps the corpus fast: parsing every file
    for each of some two hundred entries would take minutes."""
    name = str(entry["file"])
    whole = entry.get("class") in CROSS_SERVICE or "copy_from" in entry or "also" in entry
    if whole or entry.get("scope") == "all" or "/" in name:
        return ""
    return name.removesuffix(".yaml").removesuffix(".tests")


def copy_services(folder: Path, service: str) -> None:
    """A copy of services/, or of one service's definition and tests with the lists."""
    if not service:
        shutil.copytree(SERVICES, folder)
        return
    shutil.copytree(SERVICES / "lists", folder / "lists")
    for name in (f"{service}.yaml", f"{service}.tests.yaml"):
        if (SERVICES / name).is_file():
            shutil.copyfile(SERVICES / name, folder / name)


def check_entry(entry: dict[str, Any], scratch: Path) -> Outcome:
    """Apply the entry (none: `transform: none` and no find) to a copy and check it."""
    folder = scratch / entry["id"]
    copy_services(folder, scope(entry))
    try:
        if entry.get("transform") != "none":
            apply(entry, folder)
        return run_check(folder)
    except ValueError as exc:  # a `find` the services no longer hold
        return Outcome(broken=str(exc))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- the measurement ------------------------------------------------------------------------


@dataclass(repr=False)  # pytest would print every finding of every entry
class Measurement:
    baselines: dict[str, Outcome]  # by scope: the untouched files
    mistakes: list[tuple[dict[str, Any], Outcome]]
    harmless: list[tuple[dict[str, Any], Outcome]]

    def caught(self, entry: dict[str, Any], outcome: Outcome) -> bool:
        lines = set(expected_lines(entry))
        return any(f.file == entry["file"] and f.line in lines for f in outcome.findings)

    def crashes(self) -> list[str]:
        both = self.mistakes + self.harmless
        crashed = [f"{entry['id']}:\n{outcome.crash}" for entry, outcome in both if outcome.crash]
        return crashed + [
            f"untouched {name or 'services'}:\n{outcome.crash}"
            for name, outcome in self.baselines.items()
            if outcome.crash
        ]

    def missed(self) -> list[dict[str, Any]]:
        return [entry for entry, outcome in self.mistakes if not self.caught(entry, outcome)]

    def share(self) -> float:
        return 1 - len(self.missed()) / len(self.mistakes)

    def harmed(self) -> list[str]:
        """Harmless edits after which the checker reports an error, or a warning code the
        untouched services do not have in that file."""
        found: list[str] = []
        for entry, outcome in self.harmless:
            before = set(self.baselines[scope(entry)].codes())
            new = sorted(
                f
                for f in outcome.findings
                if f.code.startswith("E") or (f.file, f.code) not in before
            )
            if new:
                found.append(
                    f"{entry['id']}: {', '.join(f'{f.file}:{f.line} {f.code}' for f in new)}"
                )
        return found

    def table(self) -> str:
        per_class: dict[str, list[bool]] = {}
        for entry, outcome in self.mistakes:
            per_class.setdefault(entry["class"], []).append(self.caught(entry, outcome))
        width = max(len(name) for name in per_class)
        rows = [f"{'class':<{width}}  caught  share"]
        for name, hits in per_class.items():
            rows.append(
                f"{name:<{width}}  {sum(hits):>2}/{len(hits):<3} {sum(hits) / len(hits):>6.0%}"
            )
        total = len(self.mistakes)
        hit = total - len(self.missed())
        rows.append(f"{'overall':<{width}}  {hit:>3}/{total:<3}{hit / total:>6.1%}")
        rows.append(
            f"harmless edits: {len(self.harmless)}, with a new problem: {len(self.harmed())}; "
            f"crashes: {len(self.crashes())}"
        )
        return "\n".join(rows)

    def report(self) -> str:
        lines = [self.table()]
        for entry in self.missed():
            lines.append(
                f"  missed {entry['id']} ({entry['class']}) {entry['file']}:{entry['line']}"
            )
        both = self.mistakes + self.harmless
        lines += [f"  broken {outcome.broken}" for _, outcome in both if outcome.broken]
        lines += [f"  harmed {text}" for text in self.harmed()]
        lines += [f"  crash {text}" for text in self.crashes()]
        return "\n".join(lines)


def measure() -> Measurement:
    with tempfile.TemporaryDirectory(prefix="corpus-") as name:
        scratch = Path(name)
        mistakes = [(entry, check_entry(entry, scratch)) for entry in load_entries(MISTAKES)]
        harmless = [(entry, check_entry(entry, scratch)) for entry in load_entries(HARMLESS)]
        baselines = {
            service: check_entry(
                {"id": f"untouched-{service}", "file": f"{service}.yaml", "transform": "none"},
                scratch,
            )
            for service in {scope(entry) for entry in load_entries(HARMLESS)} | {""}
        }
    return Measurement(baselines, mistakes, harmless)


# --- tests ----------------------------------------------------------------------------------


def test_the_corpus_is_large_varied_and_points_at_the_right_lines() -> None:
    mistakes = load_entries(MISTAKES)
    harmless = load_entries(HARMLESS)
    assert len(mistakes) >= 120
    assert len(harmless) >= 30
    ids = [entry["id"] for entry in mistakes + harmless]
    assert len(ids) == len(set(ids)), "entry ids must be unique"
    per_class = Counter(entry["class"] for entry in mistakes)
    assert min(per_class.values()) >= 3, per_class
    for entry in mistakes:
        assert entry["why"], entry["id"]
        assert expected_lines(entry) == locate(entry), f"{entry['id']}: run --relocate"
    for entry in harmless:
        if "transform" not in entry:
            mutated_text(entry)  # `find` occurs exactly once


@pytest.fixture(scope="module")
def measurement() -> Measurement:
    return measure()


def test_the_untouched_services_have_no_error(measurement: Measurement) -> None:
    for outcome in measurement.baselines.values():
        assert not outcome.crash
        assert not [f for f in outcome.findings if f.code.startswith("E")]


def test_the_checker_never_crashes(measurement: Measurement) -> None:
    assert not measurement.crashes(), "\n".join(measurement.crashes())


def test_no_harmless_edit_becomes_a_problem(measurement: Measurement) -> None:
    assert not measurement.harmed(), "\n".join(measurement.harmed())


def test_the_checker_catches_most_mistakes_at_their_line(measurement: Measurement) -> None:
    print("\n" + measurement.report())
    assert measurement.share() >= REQUIRED_SHARE, measurement.report()


# --- command line ---------------------------------------------------------------------------


def relocate(path: Path = MISTAKES) -> int:
    """Rewrite each entry's `line:` from its `at:`; returns how many changed."""
    by_id = {entry["id"]: locate(entry) for entry in load_entries(path)}
    out: list[str] = []
    current = ""
    changed = 0
    for text in path.read_text(encoding="utf-8").splitlines():
        if text.startswith("- id: "):
            current = text[len("- id: ") :].strip()
        if current and text.startswith("  line: "):
            continue  # rewritten after `at:`
        out.append(text)
        if current and text.startswith("  at: "):
            lines = by_id[current]
            value = str(lines[0]) if len(lines) == 1 else "[" + ", ".join(map(str, lines)) + "]"
            out.append(f"  line: {value}")
    new = "\n".join(out) + "\n"
    old_entries = {e["id"]: e.get("line") for e in load_entries(path)}
    path.write_text(new, encoding="utf-8")
    for entry in load_entries(path):
        changed += old_entries[entry["id"]] != entry["line"]
    return changed


def main(argv: list[str]) -> int:
    if "--relocate" in argv:
        print(f"{relocate()} line(s) changed in {MISTAKES}")
        return 0
    print(measure().report())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
