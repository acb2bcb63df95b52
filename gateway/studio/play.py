"""Playing a draft in the studio as a citizen would, and keeping what was played as a
conversation test.

A play is stateless: the whole conversation is replayed from the dial on every request,
with the same engine, effects and mocks as the conversation-test runner
(`dialogs.conversation_tests`: its `Mocks` and `PERFORMERS`), the same time, phone and
conversation id. So a played conversation saved as a case (`as_case`) replays exactly as
it was seen when the draft's tests are run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import yaml

from dialogs.catalog import Catalog
from dialogs.conversation_tests import (
    Case,
    CasePlayer,
    Exchange,
    LookupMock,
    SubmissionMock,
    parse_tests,
)
from dialogs.media import Medium
from dialogs.session import Snapshot
from dialogs.yaml_source import parse_yaml

MAX_INPUTS = 200  # a play is replayed whole on every request: keep it bounded
MAX_INPUT_CHARS = 500  # longer than any answer a service asks for
EXPECTED_CHARS = 60  # the part of a screen a saved case expects: enough to tell screens apart


class PlayError(ValueError):
    """A play that cannot be run (an unknown service or language, too many inputs)."""


@dataclass(frozen=True, slots=True)
class Shown:
    """An option on a screen: what the citizen sends (`key`) and reads (`label`)."""

    key: str
    label: str
    nav: bool  # "98. More", "0. Back": moves through the screens, answers nothing


@dataclass(frozen=True, slots=True)
class PlayedTurn:
    """One message of the citizen (None: the dial) and what the medium showed back."""

    sent: str | None
    screen: str  # every reply of the turn as its renderer draws it, one after the other
    options: tuple[Shown, ...]
    ended: bool
    at: str  # the step the conversation waits at afterwards


@dataclass(frozen=True, slots=True)
class Played:
    medium: Medium
    language: str
    turns: tuple[PlayedTurn, ...]
    problems: tuple[str, ...]  # what the mocks could not answer (a lookup not mocked)

    @property
    def at(self) -> str:
        return self.turns[-1].at

    @property
    def ended(self) -> bool:
        return self.turns[-1].ended


def mock_case(tests: str | None, service_id: str) -> Case:
    """What effects are answered with: the first case of the draft's tests (its mocks, its
    day and phone), or the runner's defaults (lookups answered by the step's example)."""
    if tests:
        parsed, _ = parse_tests(tests, f"{service_id}.tests.yaml")
        if parsed is not None:
            return parsed.cases[0]
    return Case(name="play", steps=[Exchange()])


def with_mocks(
    case: Case, lookups: dict[str, LookupMock] | None, submission: SubmissionMock | None
) -> Case:
    """`case` with the lookups and submission given instead of its own."""
    update: dict[str, object] = {}
    if lookups is not None:
        update["lookups"] = lookups
    if submission is not None:
        update["submission"] = submission
    return case.model_copy(update=update)


def player(catalog: Catalog, service_id: str, medium: Medium, lang: str, case: Case) -> CasePlayer:
    """The case player for the draft `service_id` in `lang` (PlayError when there is no
    such service, or it is not offered in `lang`)."""
    service = catalog.get(service_id)
    if service is None:
        raise PlayError(f"no service {service_id!r} to play")
    if lang not in service.definition.languages:
        raise PlayError(f"{service_id} is not offered in {lang!r}")
    return CasePlayer(catalog, service, case, medium, lang)


def play(
    catalog: Catalog,
    service_id: str,
    medium: Medium,
    lang: str,
    inputs: Sequence[str],
    case: Case,
) -> Played:
    """The conversation from the dial with every input in turn, effects answered by
    `case`'s mocks."""
    if len(inputs) > MAX_INPUTS or any(len(text) > MAX_INPUT_CHARS for text in inputs):
        raise PlayError(f"at most {MAX_INPUTS} inputs of at most {MAX_INPUT_CHARS} characters")
    session = player(catalog, service_id, medium, lang, case)
    snapshot: Snapshot | None = None
    turns = []
    for sent in [None, *inputs]:
        try:
            outcome = session.turn(snapshot, sent or "")
        except LookupError as exc:  # a draft with errors: `next` names no step, say
            session.result.failures.append(f"the conversation stopped: no step {exc}")
            break
        snapshot = outcome.snapshot
        options = [o for reply in outcome.replies[-1:] for o in reply.options]
        turns.append(
            PlayedTurn(
                sent=sent,
                screen="\n".join(session.screens(outcome)),  # as the runner compares it
                options=tuple(Shown(o.key, o.label, o.nav) for o in options),
                ended=snapshot.ended,
                at=snapshot.step,
            )
        )
    return Played(medium, lang, tuple(turns), tuple(session.result.failures))


def distinctive(screen: str) -> str | None:
    """The part of a screen a saved case expects: its first line of text, cut short.
    Stable while the author keeps that text's words."""
    lines = [line.strip() for line in screen.split("\n") if line.strip()]
    if not lines:
        return None
    # Options ("1. Yes") say little about which screen it is: prefer a line of text.
    texts = [line for line in lines if not line[:1].isdigit()] or lines
    return texts[0][:EXPECTED_CHARS].rstrip()


def as_case(name: str, played: Played, mocks: Case) -> Case:
    """The played conversation as a test case on its medium: each screen must show its
    distinctive line, and the conversation be at the step it reached."""
    steps = []
    for turn in played.turns:
        expected = distinctive(turn.screen)
        steps.append(
            Exchange(
                send=turn.sent,
                screen_contains=[expected] if expected else [],
                at=turn.at,
                ended=True if turn.ended else None,
            )
        )
    return mocks.model_copy(
        update={
            "name": name,
            "channels": [played.medium],
            "lang": played.language,
            "steps": steps,
            "answers": {},
            "ended": None,
            "submitted": None,
            "submitted_answers": {},
        }
    )


def with_case(tests: str | None, service_id: str, case: Case) -> str:
    """The draft's tests file with `case` added at the end of its cases (a new file when
    it has none). The author's text is kept as written when the case can be appended to
    it; a file it cannot be appended to safely is written out again."""
    item = case.model_dump(mode="json", exclude_defaults=True)
    if not tests or not tests.strip():
        return _dump({"service": service_id, "cases": [item]})
    data, _, problems = parse_yaml(tests, f"{service_id}.tests.yaml")
    if problems:
        raise PlayError(f"the draft's tests file cannot be read: {problems[0].message}")
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise PlayError("the draft's tests file has no list of `cases:` to add to")
    expected = {**data, "cases": [*data["cases"], item]}
    block = _dump([item])
    for indent in ("", "  ", "    "):
        # Cases are usually the file's last key, in block style: append the text there.
        appended = tests.rstrip("\n") + "\n" + _indented(block, indent)
        try:
            if yaml.safe_load(appended) == expected:
                return appended
        except yaml.YAMLError:
            continue
    return _dump(expected)


def _dump(data: object) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _indented(text: str, indent: str) -> str:
    return "".join(indent + line if line.strip() else line for line in text.splitlines(True))
