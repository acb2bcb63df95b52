"""How the gateway performs what the engine asks for: one performer per effect type in
`PERFORMERS`, and what the conversation service does while a store, a classifier or a
verifier is not configured."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from dialogs.driver import EffectTable
from dialogs.messages import (
    CheckCode,
    CodeChecked,
    CodeSent,
    EffectResult,
    LookupRequest,
    Meaning,
    SendCode,
    StatusRequest,
    StatusResult,
    Submission,
    SubmissionResult,
    Understand,
)
from gateway.conversations.messages import Applicant
from gateway.ops.metrics import count_nlu_answer

if TYPE_CHECKING:
    from gateway.conversations.service import Conversations

Submit = Callable[[Submission, "Applicant"], Awaitable[SubmissionResult]]
Status = Callable[[StatusRequest, "Applicant"], Awaitable[StatusResult]]
Classify = Callable[[str, str], Awaitable[Meaning]]  # an nlu Classifier's `classify`


class Verification(Protocol):
    """Sends one-time codes and checks them (`gateway.security.verification.CodeVerifier`)."""

    async def send(self, effect: SendCode, applicant: Applicant) -> CodeSent: ...

    async def check(self, effect: CheckCode, applicant: Applicant) -> CodeChecked: ...


class NoVerification:
    """Until a verifier is configured, no number can be proved."""

    async def send(self, effect: SendCode, applicant: Applicant) -> CodeSent:
        return CodeSent(ok=False, reason="unavailable")

    async def check(self, effect: CheckCode, applicant: Applicant) -> CodeChecked:
        return CodeChecked(ok=False, reason="expired")


async def submissions_unavailable(submission: Submission, applicant: Applicant) -> SubmissionResult:
    """Until a submission store is configured, applications cannot be accepted: the
    citizen is told to try again, and the conversation keeps its answers."""
    return SubmissionResult(ok=False)


async def no_correction(citizen: str) -> str | None:
    """Without a desk, no application is ever returned for correction."""
    return None


async def nothing_understood(text: str, lang: str) -> Meaning:
    """Without a classifier, free text means nothing: menus and errors as before."""
    return Meaning(text)


async def status_unavailable(request: StatusRequest, applicant: Applicant) -> StatusResult:
    """Without a submission store there is no list to show."""
    return StatusResult(ok=False)


PERFORMERS: EffectTable[[Conversations, Applicant], Awaitable[EffectResult]] = EffectTable()
"""How the gateway performs each effect of the engine."""


@PERFORMERS.on(LookupRequest)
async def _lookup(
    effect: LookupRequest, conversations: Conversations, applicant: Applicant
) -> EffectResult:
    return await conversations.lookup(effect)


@PERFORMERS.on(StatusRequest)
async def _status(
    effect: StatusRequest, conversations: Conversations, applicant: Applicant
) -> EffectResult:
    return await conversations.status(effect, applicant)


@PERFORMERS.on(Understand)
async def _understand(
    effect: Understand, conversations: Conversations, applicant: Applicant
) -> EffectResult:
    meaning = await conversations.classify(effect.text, effect.lang)
    count_nlu_answer(meaning.source, meaning.intent is not None)
    return meaning


@PERFORMERS.on(SendCode)
async def _send_code(
    effect: SendCode, conversations: Conversations, applicant: Applicant
) -> EffectResult:
    return await conversations.verification.send(effect, applicant)


@PERFORMERS.on(CheckCode)
async def _check_code(
    effect: CheckCode, conversations: Conversations, applicant: Applicant
) -> EffectResult:
    return await conversations.verification.check(effect, applicant)


@PERFORMERS.on(Submission)
async def _submit(
    effect: Submission, conversations: Conversations, applicant: Applicant
) -> EffectResult:
    result = await conversations.submit(effect, applicant)
    if result.ok and effect.amends is not None:
        # Corrected: the next conversation begins as usual, or with the citizen's next
        # returned application (`correction` says which, from the database).
        await conversations.store.set_correction(
            applicant.citizen, await conversations.correction(applicant.citizen)
        )
    return result
