"""Outbound budgets (`gateway.security.budget`): what SMS pumping can make us send.

The issue's key property: a burst to 200 made-up numbers of one range sends no more
than the configured budget. Every test runs on the embedded Redis 6.2 and on Redis 7
(`redis_url`), with budgets counted by the real limiter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.ops.metrics import REGISTRY
from gateway.security.addresses import phone_number
from gateway.security.budget import OutboundBudget, Spent
from gateway.security.limiter import Limiter
from gateway.settings import Settings
from state.connect import connect
from state.embedded import EmbeddedRedis
from state.store import Client

PLENTY = "100000/minute;1000000/day"
CITIZEN = "+97517123456"


def settings(**budgets: Any) -> Settings:
    """Settings with every budget generous except those given."""
    options: dict[str, Any] = {
        "allowed_countries": ["BT"],
        "range_digits": 4,
        "budget_per_number": PLENTY,
        "budget_per_range": PLENTY,
        "budget_per_country": PLENTY,
        "budget_total": PLENTY,
        **budgets,
    }
    return Settings(**options)


def budget(client: Client, configured: Settings) -> OutboundBudget:
    return OutboundBudget(Limiter(client), configured)


def one_range(prefix: str = "+9751712", count: int = 200) -> Iterator[str]:
    """`count` consecutive made-up numbers of the range `prefix` (+975 1712 0000...)."""
    for suffix in range(count):
        yield f"{prefix}{suffix:04d}"


def refused(limit: str) -> float:
    """`gateway_refused_total{limit=...}` as it is now."""
    return REGISTRY.get_sample_value("gateway_refused_total", {"limit": limit}) or 0.0


async def sent(spending: OutboundBudget, numbers: Iterator[str], parts: int = 1) -> list[Spent]:
    return [await spending.spend(number, parts) for number in numbers]


def test_the_burst_numbers_are_bhutanese_mobiles_of_one_range() -> None:
    numbers = [phone_number(raw) for raw in one_range()]
    assert {number.region for number in numbers} == {"BT"}
    assert {number.range(4) for number in numbers} == {"+9751712"}
    assert len({number.e164 for number in numbers}) == 200


async def test_a_200_number_pumping_burst_sends_only_the_range_budget(client: Client) -> None:
    spending = budget(client, settings(budget_per_range="50/minute;1000/day"))
    outcomes = await sent(spending, one_range())
    assert sum(map(bool, outcomes)) == 50
    assert all(outcomes[:50])
    assert {outcome.budget for outcome in outcomes[50:]} == {"range"}


async def test_the_burst_with_the_shipped_budgets_sends_120(client: Client) -> None:
    """GATEWAY_BUDGET_PER_RANGE's default is 120/minute."""
    spending = budget(client, Settings(allowed_countries=["BT"]))
    outcomes = await sent(spending, one_range())
    assert sum(map(bool, outcomes)) == 120


async def test_a_burst_spreads_over_ranges_only_as_far_as_the_country_budget(
    client: Client,
) -> None:
    spending = budget(
        client, settings(budget_per_range="50/minute", budget_per_country="80/minute")
    )
    numbers = [*one_range("+9751712", 60), *one_range("+9757745", 60)]
    outcomes = await sent(spending, iter(numbers))
    assert sum(map(bool, outcomes)) == 80
    assert all(outcomes[:50])  # the first range's 50
    assert all(outcomes[60:90])  # 30 of the second: the country has its 80
    assert not any(outcomes[90:])
    # The second range counted the 20 the country then refused (a refusal leaves the
    # earlier budgets counted: stricter, never looser), so its last 10 hit its own budget.
    assert [o.budget for o in outcomes[90:]] == ["country"] * 20 + ["range"] * 10


async def test_the_total_budget_holds_whatever_the_country(client: Client) -> None:
    spending = budget(client, settings(budget_total="25/minute", allowed_countries=["*"]))
    numbers = [*one_range("+9751712", 20), *one_range("+91981230", 20)]
    outcomes = await sent(spending, iter(numbers))
    assert sum(map(bool, outcomes)) == 25
    assert {o.budget for o in outcomes if not o} == {"total"}


async def test_one_number_200_times_gets_the_per_number_budget(client: Client) -> None:
    spending = budget(client, settings(budget_per_number="7/minute;300/day"))
    outcomes = [await spending.spend(CITIZEN) for _ in range(200)]
    assert sum(map(bool, outcomes)) == 7
    assert {outcome.budget for outcome in outcomes[7:]} == {"number"}


async def test_one_number_with_the_shipped_budgets_gets_60_a_minute(client: Client) -> None:
    spending = budget(client, Settings(allowed_countries=["BT"]))
    outcomes = [await spending.spend(CITIZEN) for _ in range(200)]
    assert sum(map(bool, outcomes)) == 60


async def test_the_same_burst_to_a_foreign_range_sends_nothing(client: Client) -> None:
    spending = budget(client, Settings())  # allowed_countries: ["BT"]
    outcomes = await sent(spending, one_range("+91981230"))
    assert not any(outcomes)
    assert {outcome.budget for outcome in outcomes} == {"country"}


async def test_an_invalid_bhutanese_number_gets_nothing(client: Client) -> None:
    spending = budget(client, settings())
    assert await spending.spend("+97512345678") == Spent(False, "country")
    assert await spending.spend("+975") == Spent(False, "country")


async def test_a_star_lets_foreign_numbers_spend_their_budgets(client: Client) -> None:
    spending = budget(client, settings(allowed_countries=["*"], budget_per_range="5/minute"))
    outcomes = await sent(spending, one_range("+91981230", 20))
    assert sum(map(bool, outcomes)) == 5


async def test_parts_are_counted_not_messages(client: Client) -> None:
    spending = budget(client, settings(budget_per_number="10/minute"))
    assert await spending.spend(CITIZEN, 4)
    assert await spending.spend(CITIZEN, 4)
    assert not await spending.spend(CITIZEN, 4)  # 12 parts > 10
    assert await spending.spend(CITIZEN, 2)  # exactly 10
    assert not await spending.spend(CITIZEN, 1)


async def test_chat_ids_and_empty_messages_are_free(client: Client) -> None:
    spending = budget(client, settings(budget_per_number="1/minute", budget_total="1/minute"))
    for _ in range(5):
        assert await spending.spend("web:3f2a9c", 3) == Spent(True)
        assert await spending.spend("telegram:123456789", 3) == Spent(True)
        assert await spending.spend(CITIZEN, 0) == Spent(True)
    assert await spending.spend(CITIZEN)  # the one part the budgets allow is still there
    assert not await spending.spend("+97577123456")  # and the total is now spent


async def test_200_concurrent_spends_never_pass_the_range_budget(client: Client) -> None:
    spending = budget(client, settings(budget_per_range="50/minute;1000/day"))
    outcomes = await asyncio.gather(*(spending.spend(number) for number in one_range()))
    assert sum(map(bool, outcomes)) == 50


async def test_200_concurrent_spends_to_one_number_pass_only_its_budget(client: Client) -> None:
    spending = budget(client, settings(budget_per_number="7/minute"))
    outcomes = await asyncio.gather(*(spending.spend(CITIZEN, 1) for _ in range(200)))
    assert sum(map(bool, outcomes)) == 7


async def test_refused_total_grows_by_the_parts_held(client: Client) -> None:
    spending = budget(client, settings(budget_per_number="6/minute"))
    before = refused("budget_number")
    assert await spending.spend(CITIZEN, 3)
    assert await spending.spend(CITIZEN, 3)
    assert not await spending.spend(CITIZEN, 3)
    assert not await spending.spend(CITIZEN, 2)
    assert refused("budget_number") - before == 5


async def test_refused_total_counts_the_burst_held_by_the_range(client: Client) -> None:
    spending = budget(client, settings(budget_per_range="50/minute"))
    before = refused("budget_range")
    await sent(spending, one_range())
    assert refused("budget_range") - before == 150


async def test_refused_total_counts_a_foreign_burst_under_country(client: Client) -> None:
    spending = budget(client, Settings())
    before = refused("country")
    await sent(spending, one_range("+91981230"), parts=2)
    assert refused("country") - before == 400


@pytest.mark.integration  # an embedded redis-server, stopped
async def test_nothing_is_sent_when_redis_cannot_count(tmp_path: Path) -> None:
    """Money is never spent uncounted: a stopped Redis holds every message back."""
    server = EmbeddedRedis(tmp_path / "redis")
    made = connect(server.start())
    try:
        spending = budget(made, settings())
        assert await spending.spend(CITIZEN)
        server.stop()
        assert not await spending.spend(CITIZEN)
        assert not await spending.spend("+97577123456")
    finally:
        server.stop()
        await made.aclose()
