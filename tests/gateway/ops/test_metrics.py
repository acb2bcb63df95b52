"""GET /metrics on the real app and a real Redis (a database leased to each test): the
figures after known traffic. Counters are process-wide, so each test compares a scrape
before with one after.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gateway.api.ops import ops_router
from gateway.app import create_app
from gateway.delivery.worker import build_worker
from gateway.ops.metrics import HOP_BUCKETS, Shared, exposition
from gateway.runtime import Runtime
from gateway.settings import Settings
from state.events import Backlog
from tests.gateway.delivery.test_outbox import BOT_TOKEN, FakeTelegram, outgoing
from tests.gateway.fake_providers import FakeProvider, serving
from tests.gateway.providers.apps import Effects, prove_number
from tests.redis_databases import RedisDatabase

USER = "u-5f1c2a9b"
REGISTRATION = ["", "2", "11501001234", "Pema Store", "1", "2", "14", "17123456", "1", "1"]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def with_ops(app: FastAPI, **options: Any) -> None:
    """The app's ops routes, or, given `options` (a shorter timeout, Rasa required),
    routes built with them in their place."""
    if not options:
        return
    app.include_router(ops_router(**options))
    app.router.routes.insert(0, app.router.routes.pop())  # matched before the app's own


@contextmanager
def ops_gateway(
    redis_url: str, *, ops: dict[str, Any] | None = None, **settings: Any
) -> Iterator[tuple[TestClient, Effects]]:
    """Like `tests.gateway.providers.apps.gateway` on `redis_url`, with /readyz and
    /metrics; a route that fails (`/boom`) for the count of unhandled exceptions."""
    var = Path(tempfile.mkdtemp(prefix="gateway-var-"))
    app = create_app(Settings(redis_url=redis_url, **{"var_dir": var, **settings}))
    with_ops(app, **(ops or {}))

    @app.get("/boom/{thing}")
    def boom(thing: str) -> None:
        raise RuntimeError(f"no {thing}")

    effects = Effects()
    with TestClient(app, raise_server_exceptions=False) as client:
        Runtime.of(app).conversations.lookup = effects.lookup
        Runtime.of(app).conversations.submit = effects.submit
        yield client, effects


def portal(client: TestClient) -> BlockingPortal:
    """The app's event loop (open while the client is)."""
    assert client.portal is not None
    return client.portal


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def web(client: TestClient, text: str, number: int) -> dict[str, Any]:
    prove_number(client, f"web:{USER}")  # as if proved by a code before
    payload = {"user": USER, "text": text, "id": f"m{number}"}
    response = client.post("/channels/web/messages", json=payload)
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def test_messages_in_and_out_and_hop_latency_per_channel(redis_database: RedisDatabase) -> None:
    with ops_gateway(redis_database.url) as (client, _):
        before = scrape(client)
        replies = sum(
            len(web(client, text, n)["replies"]) for n, text in enumerate(REGISTRATION[:5])
        )
        after = scrape(client)
    assert grew(before, after, "gateway_messages_total", channel="web", direction="in") == 5
    assert grew(before, after, "gateway_messages_total", channel="web", direction="out") == replies
    assert replies >= 5
    assert grew(before, after, "gateway_hop_seconds_count", channel="web") == 5
    assert 0 < grew(before, after, "gateway_hop_seconds_sum", channel="web") < 5 * 5.0
    # Buckets from 1 ms to the 5 s USSD budget; every hop of this test took under 5 s.
    assert grew(before, after, "gateway_hop_seconds_bucket", channel="web", le="5.0") == 5
    assert grew(before, after, "gateway_hop_seconds_bucket", channel="web", le="+Inf") == 5
    les = {dict(labels)["le"] for name, labels in after if name == "gateway_hop_seconds_bucket"}
    assert les == {str(float(b)) for b in HOP_BUCKETS} | {"+Inf"}
    assert grew(before, after, "gateway_messages_total", channel="ussd", direction="in") == 0


def test_active_conversations_and_queue_are_read_from_redis_at_scrape_time(
    redis_database: RedisDatabase,
) -> None:
    with ops_gateway(redis_database.url) as (client, _):
        assert value(scrape(client), "gateway_active_conversations") == 0
        web(client, "", 0)
        for user in ("u-second-user1", "u-third-user22"):
            client.post("/channels/web/messages", json={"user": user, "text": ""})
        samples = scrape(client)
        assert value(samples, "gateway_active_conversations") == 3
        assert value(samples, "gateway_queue_depth") == 0
        outbox = Runtime.of(client.app).outbox
        for key in ("tg:1", "tg:2"):
            assert portal(client).call(outbox.send, outgoing(key)) is True
        assert value(scrape(client), "gateway_queue_depth") == 2
        # Ended and swept conversations leave the index: the figure is live, not a count.
        with redis_database.client() as connection:
            connection.zrem("gw:expiry", f"web:{USER}")
        assert value(scrape(client), "gateway_active_conversations") == 2


def test_the_event_archive_backlog_is_read_at_scrape_time(redis_database: RedisDatabase) -> None:
    with ops_gateway(redis_database.url) as (client, _):
        for n, text in enumerate(REGISTRATION[:3]):
            web(client, text, n)
        events = Runtime.of(client.app).events
        portal(client).call(events.drain)
        samples = scrape(client)
    assert ("gateway_events_unarchived", frozenset()) in samples
    assert value(samples, "gateway_events_unarchived") == 0
    assert value(samples, "gateway_events_archive_delay_seconds") == 0


def test_the_backlog_figures_as_exposed() -> None:
    text = exposition(Shared(events_backlog=Backlog(3, 12.5))).decode()
    families = {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert families["gateway_events_unarchived"] == 3
    assert families["gateway_events_archive_delay_seconds"] == 12.5
    assert "gateway_queue_depth" not in families  # unreadable figures are left out


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    with serving(FakeProvider(lambda call, n: fake.handle(call.path, call.body))) as server:
        fake.url = server.url
        yield fake


def test_worker_retries_and_give_ups_are_counted_in_redis(
    fake_telegram: FakeTelegram, redis_database: RedisDatabase
) -> None:
    fake_telegram.fail["sendMessage"] = [500] * 4  # two jobs, two tries each: all fail
    with ops_gateway(redis_database.url) as (client, _):
        outbox = Runtime.of(client.app).outbox
        for key in ("tg:1", "tg:2"):
            portal(client).call(outbox.send, outgoing(key))
        settings = Settings(
            redis_url=redis_database.url,
            var_dir=Path(tempfile.mkdtemp(prefix="gateway-var-")),
            telegram_bot_token=BOT_TOKEN,
            telegram_api_url=fake_telegram.url,
            worker_poll_seconds=0.01,
            send_retry_seconds=0.01,
            send_max_tries=2,
        )

        async def work() -> int:
            worker = build_worker(settings, redis_database.url, burst=True)  # on the app's loop
            try:
                await worker.async_run()
            finally:
                await worker.close()
            return worker.jobs_retried

        assert portal(client).call(work) == 2
        samples = scrape(client)
    assert value(samples, "gateway_queue_retries_total", job="deliver") == 2
    assert value(samples, "gateway_queue_gave_up_total", job="deliver") == 2
    assert value(samples, "gateway_queue_retries_total", job="notify") == 0
    assert value(samples, "gateway_queue_depth") == 0


def test_submissions_by_service_and_status_counted_once(redis_database: RedisDatabase) -> None:
    with ops_gateway(redis_database.url) as (client, _):
        app = client.app
        Runtime.of(app).conversations.submit = Runtime.of(app).submissions.submit
        before = scrape(client)
        for number, text in enumerate(REGISTRATION):
            data = web(client, text, number)
        assert data["replies"][-1]["text"].startswith("Registered! Number BR-")
        # The final answer redelivered: the same reply, no second submission.
        again = web(client, REGISTRATION[-1], len(REGISTRATION) - 1)
        assert again == data
        after = scrape(client)
    labels = {"service": "business-registration"}
    assert grew(before, after, "gateway_submissions_total", **labels, status="issued") == 1
    assert grew(before, after, "gateway_submissions_total", **labels, status="failed") == 0


def test_free_text_answers_by_classifier(redis_database: RedisDatabase) -> None:
    with ops_gateway(redis_database.url) as (client, _):
        before = scrape(client)
        web(client, "I want to register my shop", 0)
        web(client, "hello", 1)
        after = scrape(client)
    answered = grew(
        before, after, "gateway_nlu_answers_total", source="embedded", understood="true"
    )
    assert answered == 2
    assert grew(before, after, "gateway_nlu_answers_total", source="rasa", understood="true") == 0


def test_rasa_client_figures_read_at_scrape_time(redis_database: RedisDatabase) -> None:
    # Rasa configured on a port where nothing listens: each call fails at once and the
    # embedded classifier answers.
    from tests.state import free_port

    with ops_gateway(
        redis_database.url, rasa_url=f"http://127.0.0.1:{free_port()}", rasa_failures=2
    ) as (client, _):
        before = scrape(client)
        for number, text in enumerate(["I want to register my shop", "hello", "help me"]):
            client.post(
                "/channels/web/messages", json={"user": f"u-rasa-user-{number}", "text": text}
            )
        after = scrape(client)
    assert value(after, "gateway_rasa_client", stat="calls") == 3
    assert value(after, "gateway_rasa_client", stat="failures") == 2
    assert value(after, "gateway_rasa_client", stat="skipped") == 1  # the breaker opened
    assert value(after, "gateway_rasa_client", stat="fallbacks") == 3
    assert value(after, "gateway_rasa_breaker_state", state="open") == 1
    assert value(after, "gateway_rasa_breaker_state", state="closed") == 0
    embedded = grew(
        before, after, "gateway_nlu_answers_total", source="embedded", understood="true"
    )
    assert embedded == 3


def test_unhandled_exceptions_by_route_template(redis_database: RedisDatabase) -> None:
    with ops_gateway(redis_database.url) as (client, _):
        before = scrape(client)
        for thing in ("a", "b"):
            assert client.get(f"/boom/{thing}").status_code == 500
        after = scrape(client)
    assert grew(before, after, "gateway_unhandled_exceptions_total", route="/boom/{thing}") == 2


def test_several_worker_processes_are_summed_in_multiprocess_mode(tmp_path: Path) -> None:
    """`gateway serve --workers N` with PROMETHEUS_MULTIPROC_DIR: whichever process answers
    the scrape reports every process's counts; a process that exited no longer counts in
    the live gauges."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    record = (
        "from gateway.ops.metrics import hop_metrics, record_rasa\n"
        "hop_metrics('ussd').received.inc(3)\n"
        "hop_metrics('ussd').seconds.observe(0.004)\n"
        "record_rasa({'calls': 5, 'breaker_state': 'open'})\n"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", record], env=env, check=True)
    show = "import sys; from gateway.ops.metrics import Shared, exposition\n" + (
        "sys.stdout.write(exposition(Shared(active_conversations=4)).decode())"
    )
    text = subprocess.run(
        [sys.executable, "-c", show], env=env, check=True, capture_output=True, text=True
    ).stdout
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert value(samples, "gateway_messages_total", channel="ussd", direction="in") == 6
    assert value(samples, "gateway_hop_seconds_count", channel="ussd") == 2
    assert value(samples, "gateway_hop_seconds_bucket", channel="ussd", le="0.005") == 2
    assert value(samples, "gateway_active_conversations") == 4
    # Both recording processes have exited: their live gauges are gone.
    assert ("gateway_rasa_client", frozenset({("stat", "calls")})) not in samples
