"""Embedded intent classifier benchmark (`python -m bench.nlu_bench`).

Reports the time to build the classifier from the catalog, the time per `understand` over
a realistic mix of messages (service requests with typos and shorthand, built-in intents,
Dzongkha script and romanised, names and numbers typed at free-text steps, junk and one
very long message), and what classifying adds to a web-chat hop: the engine's step for a
citizen's answer, timed alone and followed by `understand` of the same text, as the
gateway does when it asks the classifier. Targets: well under 1 ms per message, at most
5 ms added to a hop at the median.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench.engine_bench import CENSUS_MOBILE, NOW, PATHS, percentile
from dialogs.engine import act
from dialogs.media import Medium
from dialogs.messages import Inbound, LookupResult, SubmissionResult
from dialogs.session import Snapshot
from gateway.catalog.repository import load_repository
from nlu.embedded import EmbeddedClassifier

# Not the held-out evaluation set: a mix of what reaches the classifier, our own words.
MIX = [
    "I want to register my shop",
    "reg biz pls",
    "how do i get a trade lisence for my restaurant in thimphu",
    "drone permit pls",
    "can I fly my DJI over Punakha next week for a wedding",
    "bus route permit from Paro to Haa",
    "lease an industrial plot at Jigmeling",
    "status of my application",
    "has my drone permit been approved",
    "help",
    "menu",
    "stop",
    "yes",
    "no thanks",
    "hi",
    "kuzuzangpo la",
    "nga gi tshong khang tho bkod",
    "ང་ཚོང་ཁང་ཐོ་བཀོད་འབད་དགོ",
    "གནས་སྟངས",
    "Pema Wangmo",
    "Tashi Enterprises",
    "11501001234",
    "+975 17123456",
    "asdfgh",
    "🙂",
    "business " * 300,
]


def time_understand(classifier: EmbeddedClassifier, rounds: int) -> tuple[list[int], list[float]]:
    """Every message of the mix, `rounds` times; (all times, median per round) in ns."""
    times: list[int] = []
    medians: list[float] = []
    for _ in range(rounds):
        round_times = []
        for text in MIX:
            start = time.perf_counter_ns()
            classifier.understand(text, "en")
            round_times.append(time.perf_counter_ns() - start)
        medians.append(statistics.median(round_times))
        times += round_times
    return times, medians


def time_hops(classifier: EmbeddedClassifier, repeats: int) -> tuple[list[int], list[int]]:
    """Web-chat hops of the engine bench's business registrations: (step, step + understand)
    per answer, in ns."""
    catalog = load_repository([Path("services")]).catalog
    plain: list[int] = []
    classified: list[int] = []
    for _ in range(repeats):
        for found, answers in PATHS.values():
            for with_nlu in (False, True):
                snapshot: Snapshot | None = None
                for text in answers:
                    inbound = Inbound(
                        text=text,
                        medium=Medium.WEB,
                        now=NOW,
                        conversation_id="bench-1",
                        service="business-registration",
                        phone=CENSUS_MOBILE,  # proved earlier: no code asked, as in engine_bench
                    )
                    start = time.perf_counter_ns()
                    outcome = act(catalog, snapshot, inbound)
                    if with_nlu:
                        classifier.understand(text, "en")
                    (classified if with_nlu else plain).append(time.perf_counter_ns() - start)
                    while outcome.effects:
                        result: LookupResult | SubmissionResult
                        if outcome.effects[0].__class__.__name__ == "LookupRequest":
                            result = LookupResult(
                                ok=found, data={"name": "Pema Wangmo", "mobile": CENSUS_MOBILE}
                            )
                        else:
                            result = SubmissionResult(ok=True, reference="BR-2026-000123")
                        follow = Inbound(
                            medium=Medium.WEB, now=NOW, result=result, phone=CENSUS_MOBILE
                        )
                        outcome = act(catalog, outcome.snapshot, follow)
                    snapshot = outcome.snapshot
    return plain, classified


def main(rounds: int = 200, repeats: int = 100) -> None:
    catalog = load_repository([Path("services")]).catalog
    builds = []
    for _ in range(5):
        start = time.perf_counter_ns()
        classifier = EmbeddedClassifier.from_catalog(catalog)
        builds.append(time.perf_counter_ns() - start)
    # Warm the per-word caches as a running gateway would be.
    time_understand(classifier, 1)
    times, medians = time_understand(classifier, rounds)
    cold = EmbeddedClassifier.from_catalog(catalog)
    cold_times, _ = time_understand(cold, 1)
    plain, classified = time_hops(classifier, repeats)

    print(f"embedded classifier: {len(MIX)} messages x {rounds} rounds")
    print(f"build from the catalog, median of 5:        {statistics.median(builds) / 1e6:9.1f} ms")
    print(
        f"understand, median (median of rounds):      {statistics.median(medians) / 1000:9.1f} us"
    )
    print(f"understand, p99:                            {percentile(times, 0.99):9.1f} us")
    print(f"understand, slowest:                        {max(times) / 1000:9.1f} us")
    print(
        f"understand, first time each (cold caches):  {percentile(cold_times, 0.5):9.1f} us"
        f" median, {max(cold_times) / 1000:.1f} us slowest"
    )
    step_median, with_median = percentile(plain, 0.5), percentile(classified, 0.5)
    print(f"web hop, engine step, median:               {step_median:9.1f} us")
    print(f"web hop, step + understand, median:         {with_median:9.1f} us")
    print(
        f"added to a hop at the median:               {with_median - step_median:9.1f} us"
        "  (target <= 5000)"
    )


if __name__ == "__main__":
    main()
