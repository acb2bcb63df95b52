"""`gateway simulate`: a citizen's phone in the terminal.

Shows each screen as the channel would, with its size (characters against the USSD
budget, SMS parts). Lookups answer with the step's `example` unless `--live`. The citizen
holds `phone`: the operator gives it on USSD, SMS and WhatsApp; on the web chat and
Telegram it is proved with the code `123456`, "sent" to the terminal.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

import typer

from dialogs.catalog import Catalog
from dialogs.compiler import CompiledService
from dialogs.conversation_tests import TEST_CODE
from dialogs.driver import EffectTable, run
from dialogs.gsm import is_gsm, septets, sms_size
from dialogs.media import PROFILES, Medium
from dialogs.messages import (
    CheckCode,
    CodeChecked,
    CodeSent,
    Effect,
    EffectResult,
    Inbound,
    LookupRequest,
    LookupResult,
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
from nlu.embedded import EmbeddedClassifier


def screen_header(text: str, medium: Medium) -> str:
    """`ussd · 96/182 chars · SMS: 1 part GSM-7` — the figures a civil servant checks."""
    size = sms_size(text)
    profile = PROFILES[medium]
    if profile.max_septets is not None:
        used = septets(text) if is_gsm(text) else len(text)
        chars = f"{used}/{profile.max_septets} chars"
    else:
        chars = f"{len(text)} chars"
    parts = "part" if size.segments == 1 else "parts"
    return f"{medium} · {chars} · SMS: {size.segments} {parts} {size.encoding}"


@dataclass(frozen=True)
class Simulation:
    """What a simulated phone answers effects with."""

    service: CompiledService
    live: bool  # lookups call the registries
    classifier: EmbeddedClassifier
    year: int


PERFORMERS: EffectTable[[Simulation], EffectResult] = EffectTable()
"""How `gateway simulate` performs each effect, saying so on stderr."""


@PERFORMERS.on(LookupRequest)
def _lookup(effect: LookupRequest, simulation: Simulation) -> EffectResult:
    typer.echo(f"  [lookup {effect.method} {effect.url}]", err=True)
    if simulation.live:
        from gateway.conversations.lookups import perform_lookup

        return asyncio.run(perform_lookup(effect))
    step = simulation.service.steps.get(effect.step)
    example = step.example_result() if isinstance(step, EffectStep) else None
    return example or LookupResult(ok=False, error="no example")


@PERFORMERS.on(StatusRequest)
def _status(effect: StatusRequest, simulation: Simulation) -> EffectResult:
    typer.echo("  [status: no applications in a simulation]", err=True)
    return StatusResult(ok=True)


@PERFORMERS.on(Understand)
def _understand(effect: Understand, simulation: Simulation) -> EffectResult:
    meaning = simulation.classifier.understand(effect.text, effect.lang)
    typer.echo(f"  [understood: {meaning.intent} {meaning.confidence:.2f}]", err=True)
    return meaning


@PERFORMERS.on(SendCode)
def _send_code(effect: SendCode, simulation: Simulation) -> EffectResult:
    typer.echo(f"  [SMS to {effect.phone}: your code is {TEST_CODE}]", err=True)
    return CodeSent(ok=True)


@PERFORMERS.on(CheckCode)
def _check_code(effect: CheckCode, simulation: Simulation) -> EffectResult:
    right = effect.code == TEST_CODE
    return CodeChecked(ok=right, reason="" if right else "wrong", tries_left=4)


@PERFORMERS.on(Submission)
def _submit(effect: Submission, simulation: Simulation) -> EffectResult:
    typer.echo(f"  [submit {effect.mode}: {dict(effect.answers)}]", err=True)
    link = "https://gw.example.gov.bt/d/SIMULATED" if effect.mode == "instant" else None
    return SubmissionResult(
        ok=True,
        reference=f"{effect.reference_prefix}-{simulation.year}-000001",
        status="issued" if link else "pending",
        link=link,
    )


def simulate(
    catalog: Catalog,
    service_id: str,
    medium: Medium,
    lang: str,
    *,
    live: bool,
    interactive: bool,
    phone: str = "+97517123456",
) -> None:
    service = catalog.get(service_id)
    assert service is not None
    simulation = Simulation(
        service, live, EmbeddedClassifier.from_catalog(catalog), datetime.now().year
    )

    def perform(effect: Effect) -> EffectResult:
        return PERFORMERS(effect, simulation)

    snapshot: Snapshot | None = None
    conversation = uuid4().hex
    given = phone if PROFILES[medium].proves_number else None  # else proved by a code
    answers: Iterator[str | None] = _answers(interactive)
    for text in answers:
        if text is None:
            break
        inbound = Inbound(
            text=text,
            medium=medium,
            now=datetime.now(),
            lang=lang,
            service=service_id,
            conversation_id=conversation,
            phone=given,
        )
        outcome = run(catalog, snapshot, inbound, perform)
        snapshot = outcome.snapshot
        for reply in outcome.replies:
            shown = renderer_for(medium).render(reply).text
            _print_screen(shown, medium, reply.end)
        if snapshot.ended:
            typer.echo(f"[conversation ended; answers: {snapshot.answers}]")
            return


def _answers(interactive: bool) -> Iterator[str | None]:
    yield ""  # the dial / first message
    while True:
        if interactive:
            try:
                yield input("> ")
            except EOFError:
                yield None
        else:
            line = sys.stdin.readline()
            if not line:
                yield None
                return
            answer = line.rstrip("\n")
            typer.echo(f"> {answer}")
            yield answer


def _print_screen(text: str, medium: Medium, end: bool) -> None:
    header = screen_header(text, medium) + (" · END" if end else "")
    width = max([len(header) + 4, *(len(line) + 4 for line in text.splitlines())])
    typer.echo("┌─ " + header + " " + "─" * (width - len(header) - 4) + "┐")
    for line in text.splitlines() or [""]:
        typer.echo("│ " + line.ljust(width - 4) + " │")
    typer.echo("└" + "─" * (width - 2) + "┘")
