"""Every effect the engine can ask for has a performer in each of the gateway's tables."""

from __future__ import annotations

from gateway.cli import simulator
from gateway.conversations import effects


def test_the_gateway_performs_every_effect() -> None:
    assert effects.PERFORMERS.missing() == []


def test_the_simulator_performs_every_effect() -> None:
    assert simulator.PERFORMERS.missing() == []
