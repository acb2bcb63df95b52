"""What the fuzzing tests share (`test_openapi_fuzz.py`, `channels/test_malformed_bodies.py`):
one running app for a module, hypothesis bounded and deterministic, the requests sent
counted, and a failure summed up in a few lines that say how to reproduce it and where
it happened.
"""

from __future__ import annotations

import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import settings

from dialogs.messages import LookupRequest, LookupResult, Submission, SubmissionResult
from gateway.app import create_app
from gateway.conversations.messages import Applicant
from gateway.runtime import Runtime
from gateway.settings import Settings
from state.embedded import EmbeddedRedis
from tests.dialogs.helpers import SERVICES_DIR
from tests.gateway.processes import running

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
CLIENT = ("127.0.0.1", 50000)  # on the USSD allow-list: the aggregators' callbacks open
# The same examples on every run, no example database, no deadline, no reproduction blob:
# the tests' own settings add how many examples and which health checks do not apply.
DETERMINISTIC = settings(derandomize=True, database=None, deadline=None, print_blob=False)


async def no_registry(request: LookupRequest) -> LookupResult:
    """Lookups never leave the machine: a registry that is down."""
    return LookupResult(ok=False, error="no registry in this test")


async def no_submissions(submission: Submission, applicant: Applicant) -> SubmissionResult:
    return SubmissionResult(ok=False)  # what is fuzzed is seeded, not made


@contextmanager
def fuzzed_app(folder: Path, **settings: Any) -> Iterator[tuple[TestClient, Settings]]:
    """The real app with its lifespan, on a Redis server of its own (`EmbeddedRedis`,
    never the suite's shared one) and SQLite, both under `folder`: the small services
    folder, Africa's Talking's and Hubtel's callbacks open to the test client, no worker,
    no registry, no new submission. Citizens and the web chat page are limited per minute:
    the same few senders post hundreds of requests here, which must reach the handlers.
    Its test client and settings (`settings` added)."""
    with running(EmbeddedRedis(folder / "redis")) as url:
        options = Settings(
            redis_url=url,
            var_dir=folder,
            services_dir=SERVICES_DIR,
            ussd_allowed_ips=["127.0.0.1"],
            worker_in_process=False,
            inbound_per_address="100000/minute",
            web_per_client="100000/minute",
            **settings,
        )
        app = create_app(options)
        with TestClient(app, client=CLIENT) as client:
            Runtime.of(app).conversations.lookup = no_registry
            Runtime.of(app).conversations.submit = no_submissions
            yield client, options


@dataclass
class Sent:
    """The requests sent, per label: how many, their statuses, the seconds they took."""

    count: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    started: float = field(default_factory=time.perf_counter)

    def send(
        self, label: str, request: Callable[[], httpx.Response], what: Callable[[], str]
    ) -> httpx.Response:
        """`request()` counted under `label`; an exception out of the app (the TestClient
        raises it) gets a note naming the request, `what()`."""
        self.count[label] += 1
        started = time.perf_counter()
        try:
            response = request()
        except Exception as exc:
            exc.add_note(f"request: {what()}")
            raise
        finally:
            self.seconds[label] += time.perf_counter() - started
        self.statuses.setdefault(label, Counter())[response.status_code] += 1
        return response

    def report(self, title: str, capsys: pytest.CaptureFixture[str]) -> None:
        """Printed even without `-s`: how many requests were sent, and per label their
        statuses and seconds. Skips when nothing was sent (the test ran alone)."""
        total = sum(self.count.values())
        if not total:
            pytest.skip("nothing was sent: this test reports on the others of the module")
        seconds = time.perf_counter() - self.started
        lines = [
            f"{count:5d} {self.seconds[label]:6.2f} s  {label}  {dict(self.statuses[label])}"
            for label, count in sorted(self.count.items())
        ]
        with capsys.disabled():
            print(f"\n{title}: {total} requests in {seconds:.1f} s\n" + "\n".join(lines))


def summary(exc: BaseException) -> str:
    """The exception, the request that raised it and the project's frames it went
    through (not the tests'): enough to reproduce it and to find the line."""
    if isinstance(exc, BaseExceptionGroup):  # hypothesis found several distinct bugs
        return "\n".join(summary(inner) for inner in exc.exceptions)
    ours = [
        f"  {Path(frame.filename).relative_to(ROOT)}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename.startswith(str(ROOT))
        and "/.venv/" not in frame.filename
        and not frame.filename.startswith(str(TESTS))
    ]
    notes = [note for note in getattr(exc, "__notes__", []) if note.startswith("request:")]
    return "\n".join([f"{type(exc).__name__}: {exc}"[:1500], *notes, *ours[-6:]])
