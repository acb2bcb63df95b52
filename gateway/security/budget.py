"""Outbound budgets: what the gateway may spend on messages, before it spends it.

Every SMS part (and every WhatsApp message) to a number costs the government money, and
SMS pumping fraud makes a service send as many as it can to number ranges that share the
revenue. Before anything is sent to a number, its parts are counted against four budgets
(`GATEWAY_BUDGET_*`: the number, its range, its country, everything), each per minute and
per day, in that order: the first budget that is spent holds the message back. A number
outside the allowed countries gets nothing at all. When Redis cannot count, nothing is
sent: money is never spent uncounted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from gateway.ops.metrics import count_refused
from gateway.security.addresses import Countries, NotAPhoneNumberError, phone_number
from gateway.security.limiter import Limiter, Verdict
from gateway.settings import Settings, rates

logger = logging.getLogger(__name__)

# Mediums whose messages cost per message or part; Telegram and the web chat cost nothing.
PAID = frozenset({"sms", "whatsapp", "ussd"})  # USSD's own screens never pass through here


@dataclass(frozen=True, slots=True)
class Spent:
    """The answer of `OutboundBudget.spend`: allowed, or which budget held it back."""

    allowed: bool
    budget: str = ""  # number, range, country, total, or "country" for a refused country

    def __bool__(self) -> bool:
        return self.allowed


class OutboundBudget:
    """Counts message parts to phone numbers against the configured budgets."""

    def __init__(self, limiter: Limiter, settings: Settings) -> None:
        self.limiter = limiter
        self.countries = Countries.of(settings.allowed_countries)
        self.range_digits = settings.range_digits
        self.budgets = (
            ("number", rates(settings.budget_per_number)),
            ("range", rates(settings.budget_per_range)),
            ("country", rates(settings.budget_per_country)),
            ("total", rates(settings.budget_total)),
        )

    async def spend(self, address: str, parts: int = 1) -> Spent:
        """Count `parts` message parts to `address`; Spent(False) means send nothing."""
        if parts <= 0 or not address.startswith("+"):
            return Spent(True)  # a chat id, a web user: no phone bill
        try:
            number = phone_number(address)
        except NotAPhoneNumberError:
            count_refused("country", parts)
            return Spent(False, "country")
        if not self.countries.serve(number):
            count_refused("country", parts)
            logger.warning("held %d part(s) for %s: country not allowed", parts, number.e164)
            return Spent(False, "country")
        keys = {
            "number": number.e164,
            "range": number.range(self.range_digits),
            "country": number.country,
            "total": "all",
        }
        for name, limits in self.budgets:
            verdict: Verdict = await self.limiter.hit(
                limits, "budget", name, keys[name], cost=parts, fail_open=False
            )
            if not verdict.allowed:
                count_refused(f"budget_{name}", parts)
                logger.warning(
                    "held %d part(s) for %s: the %s budget (%s) is spent",
                    parts,
                    number.e164,
                    name,
                    verdict.limit or "Redis unavailable",
                )
                return Spent(False, name)
        return Spent(True)
