"""Engine benchmark for the business registration service (`make bench`).

Reports compile time, the engine's step time over full conversations (median and p99,
every channel, every path of the service) and the serialised snapshot size. The baseline
measured in the same run is what the compiler exists to avoid: compiling the service (and
building its state machine) on every request.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from dialogs.catalog import Catalog
from dialogs.compiler import compile_service
from dialogs.engine import act
from dialogs.media import Medium
from dialogs.messages import Inbound, LookupResult, Outcome, SubmissionResult
from dialogs.session import Snapshot
from gateway.catalog.repository import load_file

# The number the census fake holds for its citizen, and the number every scripted citizen
# holds (the operator's, or one proved earlier on the web chat and Telegram): the census
# confirms who applies, and a found citizen gets the instant certificate. The CID is "115"
# + its last 8 digits, as for bench/fake_census.py.
CENSUS_MOBILE = "+97517123456"
CID = "115" + CENSUS_MOBILE[-8:]

SERVICE = Path("services/business-registration.yaml")
CHANNELS = tuple(Medium)
NOW = datetime(2026, 11, 28, 9, 30)
# Scripted citizens: found in the census or not, with typos, paging, back and an edit.
# "not found" takes the reviewed path on purpose (a typed name, an officer confirms).
PATHS: dict[str, tuple[bool, list[str]]] = {
    "found": (
        True,
        ["", CID, "Pema Tshering Shop", "2", "1", "14", "17123456", "1", "1"],
    ),
    "not found, mistakes": (
        False,
        [
            "",
            "1150100",
            "11501001234",
            "Pema Wangmo",
            "Pema Shop",
            "7",
            "3",
            "ok",
            "98",
            "16",
            "0",
            "2",
            "thimpu",
            "123",
            "+97577123456",
            "2",
            "3",
            "1",
            "1",
            "yes",
        ],
    ),
    "back and decline": (
        True,
        ["", CID, "Shop", "1", "0", "2", "5", "20", "17123456", "1", "2"],
    ),
}


def conversation(
    catalog: Catalog, found: bool, answers: list[str], channel: Medium
) -> Iterator[tuple[int, Outcome]]:
    """Play one scripted conversation, yielding (step time in ns, outcome) per step."""
    snapshot: Snapshot | None = None
    for text in answers:
        inbound = Inbound(
            text=text, medium=channel, now=NOW, conversation_id="bench-1", phone=CENSUS_MOBILE
        )
        start = time.perf_counter_ns()
        outcome = act(catalog, snapshot, inbound)
        yield time.perf_counter_ns() - start, outcome
        while outcome.effects:
            effect = outcome.effects[0]
            result: LookupResult | SubmissionResult
            if effect.__class__.__name__ == "LookupRequest":
                result = LookupResult(
                    ok=found,
                    data={"name": "Pema Wangmo", "mobile": CENSUS_MOBILE} if found else None,
                )
            else:
                result = SubmissionResult(
                    ok=True,
                    reference="BR-2026-000123",
                    status="issued",
                    link="https://gw.gov.bt/d/Xq3vT9bLkP2mN8wRzY5sAQ",
                )
            follow = Inbound(medium=channel, now=NOW, result=result, phone=CENSUS_MOBILE)
            start = time.perf_counter_ns()
            outcome = act(catalog, outcome.snapshot, follow)
            yield time.perf_counter_ns() - start, outcome
        snapshot = outcome.snapshot


def percentile(values: list[int], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] / 1000


def main(rounds: int = 7, repeats: int = 40) -> None:
    loaded = load_file(SERVICE)
    assert loaded.definition is not None, loaded.problems
    definition = loaded.definition

    compile_times = []
    for _ in range(30):
        start = time.perf_counter_ns()
        compiled = compile_service(definition)
        compile_times.append(time.perf_counter_ns() - start)
    catalog = Catalog.of([compiled])

    # Several rounds, each a median: this machine is shared, and one busy moment should
    # move one round, not the figure.
    round_medians: list[float] = []
    step_times: list[int] = []
    sizes: list[int] = []
    by_channel: dict[Medium, list[int]] = {channel: [] for channel in CHANNELS}
    for _ in range(rounds):
        times: list[int] = []
        for _ in range(repeats):
            for channel in CHANNELS:
                for found, answers in PATHS.values():
                    for elapsed, outcome in conversation(catalog, found, answers, channel):
                        times.append(elapsed)
                        by_channel[channel].append(elapsed)
                        sizes.append(len(outcome.snapshot.to_json().encode()))
        round_medians.append(percentile(times, 0.5))
        step_times += times

    compile_median = statistics.median(compile_times) / 1000
    step_median = statistics.median(round_medians)
    conversations = rounds * repeats * len(CHANNELS) * len(PATHS)
    print(
        f"business registration: {len(definition.steps)} steps; {len(step_times)} engine "
        f"steps over {conversations} conversations, {len(CHANNELS)} channels, {rounds} rounds"
    )
    print(f"compile (Machine + templates), median of 30:   {compile_median:9.1f} us")
    print(f"engine step, median (median of rounds):        {step_median:9.1f} us  (target <= 50)")
    print(
        f"engine step, median, best and worst round:     {min(round_medians):9.1f} us"
        f" / {max(round_medians):.1f} us"
    )
    print(f"engine step, p99:                              {percentile(step_times, 0.99):9.1f} us")
    for channel, values in by_channel.items():
        print(
            f"  {channel:9s} median {percentile(values, 0.5):7.1f} us,"
            f" p99 {percentile(values, 0.99):7.1f} us"
        )
    print(f"snapshot JSON, largest:                        {max(sizes):9d} bytes (target <= 2048)")
    print(
        f"snapshot JSON, median:                         {int(statistics.median(sizes)):9d} bytes"
    )
    print(f"baseline, compiling per request / step median: {compile_median / step_median:8.0f}x")


if __name__ == "__main__":
    main()
