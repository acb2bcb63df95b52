"""Conversation tests a civil servant writes beside a service (`<id>.tests.yaml`), played
on each channel. Their format, with an example, and its reading are in
`dialogs.case_format`; running a case is pure: lookups and submissions are answered from
the case's mocks.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from dialogs.case_format import (
    NOTHING_EXPECTED,
    TEST_CODE,
    TEST_PHONE,
    Case,
    Exchange,
    LookupMock,
    Strings,
    SubmissionMock,
    TestFile,
    parse_tests,
    read_tests,
)
from dialogs.catalog import Catalog
from dialogs.compiler import CompiledService
from dialogs.driver import EffectTable, run
from dialogs.gsm import septets, sms_size
from dialogs.media import PROFILES, Medium
from dialogs.messages import (
    Application,
    CheckCode,
    CodeChecked,
    CodeSent,
    Effect,
    EffectResult,
    Inbound,
    LookupRequest,
    LookupResult,
    Meaning,
    Outcome,
    SendCode,
    StatusRequest,
    StatusResult,
    Submission,
    SubmissionResult,
    Understand,
)
from dialogs.render import renderer_for
from dialogs.session import Snapshot
from dialogs.steps import EffectStep

__all__ = [  # the format, read where the tests are played
    "NOTHING_EXPECTED",
    "TEST_CODE",
    "TEST_PHONE",
    "Case",
    "Exchange",
    "LookupMock",
    "SubmissionMock",
    "TestFile",
    "parse_tests",
    "read_tests",
]

CODE_TRIES = 5


@dataclass
class CaseResult:
    """How one case went on one medium."""

    case: str
    medium: Medium
    failures: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def _as_list(value: Strings) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def screen_problems(text: str, medium: Medium) -> list[str]:
    """Limits a rendered screen breaks on its medium."""
    profile = PROFILES[medium]
    found = []
    if profile.max_septets is not None and septets(text) > profile.max_septets:
        found.append(f"screen has {septets(text)} characters, over {profile.max_septets}")
    if profile.max_segments is not None and sms_size(text).segments > profile.max_segments:
        found.append(f"SMS needs {sms_size(text).segments} parts, over {profile.max_segments}")
    return found


# Free text -> its meaning (the gateway passes its embedded classifier: `dialogs` has none).
Understanding = Callable[[str, str], Meaning]


def not_understood(text: str, lang: str) -> Meaning:
    return Meaning(text)


@dataclass
class Mocks:
    """What a case answers effects with, and what it saw of them."""

    case: Case
    service: CompiledService
    understand: Understanding
    result: CaseResult
    submitted: list[Submission] = field(default_factory=list)  # successful ones only
    tries: int = CODE_TRIES  # of the code sent last
    applications: list[Application] = field(default_factory=list)  # for STATUS, newest first


PERFORMERS: EffectTable[[Mocks], EffectResult] = EffectTable()
"""How a conversation test performs each effect: from the case's mocks."""


@PERFORMERS.on(LookupRequest)
def _lookup(effect: LookupRequest, mocks: Mocks) -> EffectResult:
    mock = mocks.case.lookups.get(effect.step)
    if mock is None:  # the step's own example, if it has one
        step = mocks.service.steps.get(effect.step)
        example = step.example_result() if isinstance(step, EffectStep) else None
        if example is None:
            mocks.result.failures.append(f"lookup {effect.step!r} is not mocked")
            return LookupResult(ok=False, error="not mocked")
        return example
    if mock.error is not None:
        return LookupResult(ok=False, error=mock.error)
    return LookupResult(ok=True, data=mock.data)


@PERFORMERS.on(StatusRequest)
def _status(effect: StatusRequest, mocks: Mocks) -> EffectResult:
    return StatusResult(ok=True, applications=tuple(mocks.applications))  # this case's


@PERFORMERS.on(Understand)
def _understand(effect: Understand, mocks: Mocks) -> EffectResult:
    return mocks.understand(effect.text, effect.lang)


@PERFORMERS.on(SendCode)
def _send_code(effect: SendCode, mocks: Mocks) -> EffectResult:
    mocks.tries = CODE_TRIES
    return CodeSent(ok=True)


@PERFORMERS.on(CheckCode)
def _check_code(effect: CheckCode, mocks: Mocks) -> EffectResult:
    mocks.tries -= 1
    if effect.code == TEST_CODE and mocks.tries >= 0:
        return CodeChecked(ok=True)
    return CodeChecked(ok=False, reason="wrong", tries_left=max(0, mocks.tries))


@PERFORMERS.on(Submission)
def _submit(effect: Submission, mocks: Mocks) -> EffectResult:
    mock = mocks.case.submission
    if mock.ok:
        mocks.submitted.append(effect)
    reference = mock.reference or f"{effect.reference_prefix}-{mocks.case.today.year}-000001"
    link = mock.link or (
        "https://gw.example.gov.bt/d/TESTTOKEN" if effect.mode == "instant" else None
    )
    status = "issued" if effect.mode == "instant" else "pending"
    if mock.ok:
        mocks.applications.insert(0, Application(reference, effect.service, status))
    return SubmissionResult(ok=mock.ok, reference=reference, status=status, link=link)


class CasePlayer:
    """One conversation of a case on one medium, turn by turn, its effects answered by the
    case's mocks, on the case's day at 09:00: as `run_case` plays it, and as the studio
    plays a draft (so a played conversation kept as a case replays the same)."""

    def __init__(
        self,
        catalog: Catalog,
        service: CompiledService,
        case: Case,
        medium: Medium,
        lang: str,
        understand: Understanding = not_understood,
        result: CaseResult | None = None,
    ) -> None:
        self.catalog, self.service, self.medium, self.lang = catalog, service, medium, lang
        self.result = result if result is not None else CaseResult(case.name, medium)
        self.mocks = Mocks(case, service, understand, self.result)
        self.now = datetime.combine(case.today, datetime.min.time()).replace(hour=9)
        proved = PROFILES[medium].proves_number or case.proved
        self.phone = case.phone if proved else None
        self.render = renderer_for(medium).render

    def inbound(self, text: str) -> Inbound:
        return Inbound(
            text=text,
            medium=self.medium,
            now=self.now,
            lang=self.lang,
            service=self.service.id,
            conversation_id=f"test-{self.medium}",
            phone=self.phone,
        )

    def turn(self, snapshot: Snapshot | None, text: str) -> Outcome:
        def perform(effect: Effect) -> EffectResult:
            return PERFORMERS(effect, self.mocks)

        return run(self.catalog, snapshot, self.inbound(text), perform)

    def screens(self, outcome: Outcome) -> list[str]:
        return [self.render(reply).text for reply in outcome.replies]


def run_case(
    catalog: Catalog,
    service_id: str,
    case: Case,
    medium: Medium,
    understand: Understanding = not_understood,
) -> CaseResult:
    """Play one case on one medium and compare every screen with what was expected."""
    result = CaseResult(case.name, medium)
    service = catalog.get(service_id)
    if service is None:
        result.failures.append(f"unknown service {service_id!r}")
        return result
    if not case.expects():
        result.failures.append(NOTHING_EXPECTED)
        return result
    player = CasePlayer(catalog, service, case, medium, case.lang, understand, result)
    snapshot: Snapshot | None = None
    for number, exchange in enumerate(case.steps, start=1):
        if number > 1 and exchange.send is None:
            result.failures.append(f"step {number}: `send:` is missing")
            return result
        outcome = player.turn(snapshot, exchange.send or "")
        snapshot = outcome.snapshot
        screens = player.screens(outcome)
        # The options as every channel offers them (numbered text, buttons, a keyboard).
        options = [o.label for reply in outcome.replies for o in reply.options if not o.nav]
        said = "(dial)" if exchange.send is None else repr(exchange.send)
        result.transcript.append(f"> {said}\n" + "\n".join(screens))
        where = f"step {number} (after {said})"
        for text in screens:
            result.failures += [f"{where}: {p}" for p in screen_problems(text, medium)]
        result.failures += [
            f"{where}: {f}" for f in _exchange_failures(exchange, screens, snapshot)
        ]
        result.failures += [f"{where}: {f}" for f in _option_failures(exchange, options)]
    assert snapshot is not None
    result.failures += _case_failures(case, snapshot, player.mocks.submitted)
    return result


def _exchange_failures(exchange: Exchange, screens: list[str], snapshot: Snapshot) -> list[str]:
    """What the screens shown, and where the conversation is, miss of an exchange."""
    screen = "\n".join(screens)
    failures: list[str] = []
    if exchange.screen is not None and screen != exchange.screen.rstrip("\n"):
        diff = difflib.unified_diff(
            exchange.screen.rstrip("\n").splitlines(),
            screen.splitlines(),
            "expected",
            "actual",
            lineterm="",
        )
        failures.append("screen differs\n" + "\n".join(diff))
    for text in _as_list(exchange.screen_contains):
        if text.casefold() not in screen.casefold():
            failures.append(f"screen does not contain {text!r}\n" + _indent(screen))
    for text in _as_list(exchange.screen_not_contains):
        if text.casefold() in screen.casefold():
            failures.append(f"screen contains {text!r}\n" + _indent(screen))
    if exchange.at is not None and snapshot.step != exchange.at:
        failures.append(f"at step {snapshot.step!r}, expected {exchange.at!r}")
    if exchange.ended is not None and snapshot.ended != exchange.ended:
        failures.append(f"ended is {snapshot.ended}, expected {exchange.ended}")
    return failures


def _option_failures(exchange: Exchange, options: list[str]) -> list[str]:
    """What the options shown miss of an exchange (capitals do not matter)."""
    shown = [label.casefold() for label in options]
    failures: list[str] = []
    if exchange.options is not None and shown != [o.casefold() for o in exchange.options]:
        failures.append(f"options shown are {options!r}, expected {exchange.options!r}")
    for label in _as_list(exchange.options_contain):
        if label.casefold() not in shown:
            failures.append(f"no option {label!r} among the options shown {options!r}")
    return failures


def _case_failures(case: Case, snapshot: Snapshot, submitted: list[Submission]) -> list[str]:
    """What the end of the conversation misses of the case's expectations."""
    failures: list[str] = []
    for name, expected in case.answers.items():
        actual = snapshot.answers.get(name, "(no answer)")
        if actual != expected:
            failures.append(f"answer {name!r} is {actual!r}, expected {expected!r}")
    if case.ended is not None and snapshot.ended != case.ended:
        failures.append(f"ended is {snapshot.ended}, expected {case.ended}")
    if case.submitted is not None and bool(submitted) != case.submitted:
        failures.append(
            f"submitted {len(submitted)} time(s), expected "
            + ("once" if case.submitted else "none")
        )
    for name, expected in case.submitted_answers.items():
        actual = submitted[-1].answers.get(name, "(missing)") if submitted else "(no submission)"
        if actual != expected:
            failures.append(f"submitted {name!r} is {actual!r}, expected {expected!r}")
    if len(submitted) > 1:
        keys = ", ".join(s.idempotency_key for s in submitted)
        failures.append(f"the application was submitted {len(submitted)} times ({keys})")
    return failures


def run_file(
    catalog: Catalog,
    tests: TestFile,
    media: list[Medium] | None = None,
    understand: Understanding = not_understood,
) -> list[CaseResult]:
    """Every case of a tests file on each of its media (optionally only `media`)."""
    results = []
    for case in tests.cases:
        for medium in case.channels:
            if media is None or medium in media:
                results.append(run_case(catalog, tests.service, case, medium, understand))
    return results


def _indent(text: str) -> str:
    return "\n".join("    | " + line for line in text.splitlines())
