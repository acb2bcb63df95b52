"""How the instructions bench tells the asking hops from the hop that submits."""

from __future__ import annotations

from bench.instructions import split
from bench.ussd_rate import HOPS


def test_the_submitting_hop_is_what_the_whole_registration_costs_beyond_the_asking_ones() -> None:
    # 9 hops at 2.0 M on average, the first 8 at 1.5 M: the last costs 18 - 12 = 6.0 M.
    assert HOPS == 9
    line = split(gateway=2.0, asking=1.5, baseline=1.0)
    assert "the 8 that ask 1.500 M each (1.50×)" in line
    assert "the one that submits 6.000 M (6.00×" in line
    # The submission beyond an asking hop, and that spread over the registration's hops.
    assert "the submission alone 4.500 M, 0.500 M a hop on average" in line
