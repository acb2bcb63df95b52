"""Proving a mobile number on the web chat and Telegram: a one-time code by SMS.

Those channels identify nobody (a random browser id, a Telegram account), so before a
registry or a submission relies on a number, the citizen proves they hold it: 6 digits,
valid 5 minutes, 5 tries, a few codes per number (`GATEWAY_CODES_PER_NUMBER`), counted
against the outbound budgets like any SMS. The code is kept hashed (salted SHA-256) in
Redis beside the citizen's conversation; a proved number is remembered for
`GATEWAY_VERIFIED_DAYS`, and it then receives the citizen's links.

In development without an SMS provider (`make run`), the code is written in the log.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.expressions import compile_template
from dialogs.gsm import sms_size
from dialogs.messages import CheckCode, CodeChecked, CodeSent, Reply, SendCode
from dialogs.text import localise
from gateway.conversations.messages import Applicant
from gateway.ops.metrics import count_refused
from gateway.security.addresses import Countries, NotAPhoneNumberError, phone_number
from gateway.security.budget import OutboundBudget
from gateway.security.limiter import Limiter
from gateway.settings import Settings, rates
from state.store import SessionStore, citizen_key, text_of

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_SECONDS = 300
MAX_TRIES = 5
Deliver = Callable[[str, Reply], Awaitable[None]]  # (number, message): queued for sending


class CodeVerifier:
    """Sends codes and checks them; a number checked is the citizen's for a while."""

    def __init__(
        self,
        store: SessionStore,
        limiter: Limiter,
        budget: OutboundBudget,
        settings: Settings,
        deliver: Deliver | None,
    ) -> None:
        self.store = store
        self.limiter = limiter
        self.budget = budget
        self.countries = Countries.of(settings.allowed_countries)
        self.per_number = rates(settings.codes_per_number)
        self.verified_seconds = settings.verified_days * 86400
        self.deliver = deliver  # None: development without an SMS provider (logged)

    @staticmethod
    def key(citizen: str) -> str:
        return f"gw:{citizen_key(citizen)}:otp"

    async def send(self, effect: SendCode, applicant: Applicant) -> CodeSent:
        try:
            number = phone_number(effect.phone)
        except NotAPhoneNumberError:
            return CodeSent(ok=False, reason="not_allowed")
        if not self.countries.serve(number):
            count_refused("country")
            return CodeSent(ok=False, reason="not_allowed")
        for who in (number.e164, applicant.citizen):  # per number, and per web or chat user
            if not await self.limiter.hit(self.per_number, "codes", who, fail_open=False):
                count_refused("codes")
                return CodeSent(ok=False, reason="too_many")
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        text = compile_template(localise(BUILTIN_TEXTS["code_sms"], effect.lang)).render(
            {"code": code}
        )
        # Sent first, kept after: a code that cannot go out leaves the last one working.
        if self.deliver is None:
            logger.warning(
                "development: verification code %s for %s (no SMS provider is set)",
                code,
                number.e164,
            )
        elif not await self.budget.spend(number.e164, sms_size(text).segments):
            return CodeSent(ok=False, reason="unavailable")
        else:
            try:
                await self.deliver(number.e164, Reply(text))
            except Exception:  # the queue is away: the citizen may ask again
                logger.warning("verification code for %s not queued", number.e164, exc_info=True)
                return CodeSent(ok=False, reason="unavailable")
        salt = secrets.token_hex(8)
        key = self.key(applicant.citizen)
        stored = {"phone": number.e164, "salt": salt, "digest": _digest(salt, code), "tries": 0}
        async with self.store.client.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=stored)
            pipe.expire(key, CODE_SECONDS)
            await pipe.execute()
        return CodeSent(ok=True)

    async def check(self, effect: CheckCode, applicant: Applicant) -> CodeChecked:
        key = self.key(applicant.citizen)
        client = self.store.client
        stored = {text_of(k): text_of(v) for k, v in (await client.hgetall(key)).items()}  # type: ignore[misc]
        if not stored or stored.get("phone") != effect.phone:
            return CodeChecked(ok=False, reason="expired")
        tries = int(await client.hincrby(key, "tries", 1))  # type: ignore[misc]
        if tries > MAX_TRIES:
            await client.delete(key)
            return CodeChecked(ok=False, reason="locked")
        if not hmac.compare_digest(_digest(stored["salt"], effect.code), stored["digest"]):
            if tries == MAX_TRIES:
                await client.delete(key)
                return CodeChecked(ok=False, reason="locked")
            return CodeChecked(ok=False, reason="wrong", tries_left=MAX_TRIES - tries)
        await client.delete(key)
        await self.store.set_phone(applicant.citizen, effect.phone, self.verified_seconds)
        return CodeChecked(ok=True)


def _digest(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()
