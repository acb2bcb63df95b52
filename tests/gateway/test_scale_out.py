"""Two `gateway serve` processes and one `gateway worker` against one Redis and one
PostgreSQL behave exactly like one process.

A citizen's answers alternate between the two API processes, over Africa's Talking USSD,
Africa's Talking SMS (replies sent by the worker) and the web chat API; every answer is
also delivered a second time to the *other* process, as an aggregator retrying through
another node of a load balancer would. The screens must be those one process gives
another citizen, with one submission, one reference, one certificate SMS and a complete
message log.

The deployment is `tests/gateway/test_nothing_lost.py`'s: a private `redis-server`, a
fresh PostgreSQL database dropped afterwards, the census faked by `bench/fake_census.py`
and Africa's Talking's SMS API on loopback. Without Redis or PostgreSQL these tests fail,
never skip (on CI and elsewhere), like that module's.
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.gateway import test_nothing_lost as lost
from tests.gateway.processes import wait_until
from tests.gateway.test_nothing_lost import ADMIN, Gateway, Stack, sql
from tests.state import free_port

pytestmark = pytest.mark.integration  # gateway processes, a private Redis, PostgreSQL

# The fixtures of the deployment, found by pytest under these names.
redis_port = lost.redis_port
database = lost.database
census_services = lost.census_services
stack = lost.stack

AUTH = f"Bearer {ADMIN}"
# USSD answers after the code's first screen, with a CID the fake census confirms for
# the citizen's number (the instant path: certificate and its SMS).
registration = lost.registration
SMS_NUMBER = "21384"  # the gateway's short code
REFERENCE = re.compile(r"BR-\d{4}-\d{6}")
LINK = re.compile(r"/d/[A-Za-z0-9_-]{22}")
PHONE = re.compile(r"\+975\d{8}")  # a web citizen's number, shown when it gets its code
CODE = "<code>"  # the web chat's answer with the code the gateway sent by SMS
CODE_SMS = re.compile(r"^(\d{6}) is your code")


def text_registration(phone: str) -> list[str]:
    """On a text channel the main menu comes first: "2" picks the business registration."""
    return ["hello", "2", *registration(phone)]


def web_registration(phone: str) -> list[str]:
    """The web chat's answers: a citizen there proves a number by a code (sent by SMS)
    before the census is asked, so its confirmation can rest on that number. (Each sent
    twice, two citizens: 52 requests from loopback, under GATEWAY_WEB_PER_CLIENT's 60 a
    minute.)"""
    cid, *rest = registration(phone)
    return ["hello", "2", cid, phone, CODE, *rest]


Hop = Callable[[Gateway, str], str]  # one answer to one process: the citizen's screen


def same_text(screen: str) -> str:
    """A screen without what differs between two citizens' registrations."""
    return PHONE.sub("<phone>", LINK.sub("/d/<token>", REFERENCE.sub("<reference>", screen)))


def web(gateway: Gateway, user: str, text: str, message_id: str) -> str:
    """The web chat API: the replies as one text (JSON of texts, options, links)."""
    body = json.dumps({"user": user, "text": text, "id": message_id}).encode()
    request = urllib.request.Request(
        gateway.url + "/channels/web/messages",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with lost.NO_PROXY.open(request, timeout=60) as answer:
        assert answer.status == 200
        return json.dumps(json.loads(answer.read()), ensure_ascii=False, sort_keys=True)


CERTIFICATE = "Certificate of Business Registration"


def sms_received(stack: Stack, phone: str, *, certificates: bool = False) -> list[str]:
    """The SMS sent to `phone`: the replies, or the certificates (sent when the worker
    gets to them, so never counted as a hop's reply)."""
    sent = [form["message"] for form in stack.sms.forms() if form["to"] == phone]
    return [text for text in sent if text.startswith(CERTIFICATE) == certificates]


def queue_drained(stack: Stack) -> bool:
    return stack.queued() == 0


def sms(stack: Stack, gateway: Gateway, phone: str, text: str, message_id: str) -> str:
    """Africa's Talking's inbound SMS callback; the replies the worker then sent."""
    before = len(sms_received(stack, phone))
    form = {
        "from": phone,
        "to": SMS_NUMBER,
        "text": text,
        "date": "2026-03-01 10:00:00",
        "id": message_id,
        "linkId": f"link-{message_id}",
    }
    answer = lost.http("POST", gateway.url + "/channels/sms/africastalking", form=form)
    assert answer.status == 200, answer.text
    wait_until(lambda: queue_drained(stack), "the worker to send the replies")
    return "\n---\n".join(sms_received(stack, phone)[before:])


def code_sent(stack: Stack, phone: str) -> str:
    """The newest verification code the worker sent to `phone` by SMS."""

    def newest() -> str | None:
        codes = [CODE_SMS.match(text) for text in sms_received(stack, phone)]
        found = [match.group(1) for match in codes if match]
        return found[-1] if found else None

    return wait_until(newest, f"a verification code for {phone}")


def converse(
    hop: Callable[[Gateway, int], str],
    first: Gateway,
    second: Gateway,
    answers: int,
    *,
    alternate: bool,
    again_shows: Callable[[str], str] = lambda screen: screen,
) -> list[str]:
    """Each answer to one process (alternating when asked), then delivered again to the
    other one, which must show `again_shows(screen)`: the same screen, where the reply is
    the response; nothing, where the worker sends it (sent once). The screens."""
    screens: list[str] = []
    for number in range(answers):
        here, there = (first, second) if not alternate or number % 2 == 0 else (second, first)
        screen = hop(here, number)
        again = hop(there, number)
        assert again == again_shows(screen), f"answer {number}: the redelivery differs"
        screens.append(screen)
    return screens


def certificates_sent(stack: Stack) -> None:
    """Every notification sent (the worker draws each PDF first: allow it time)."""
    try:
        wait_until(lambda: lost.sent(stack), "the certificates to be sent", timeout=60)
    except AssertionError as failed:
        raise AssertionError(f"{failed}\n{stack.tail()}") from None


def deployment(stack: Stack) -> tuple[Gateway, Gateway]:
    first, second = stack.serve(), stack.serve()
    stack.worker()
    return first, second


def submissions_of(citizen: str) -> list[str]:
    rows = sql(f"SELECT reference FROM submissions WHERE citizen = '{citizen}'")
    return rows.splitlines()


def logged(gateway: Gateway, address: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = gateway.admin(f"/messages?address={address.replace('+', '%2B')}")
    return rows


def assert_log_complete(gateway: Gateway, address: str, deliveries: int) -> None:
    """Every delivery (redeliveries included) logged in, with at least one reply out."""

    def complete() -> list[dict[str, Any]] | None:
        rows = logged(gateway, address)
        inbound = [r for r in rows if r["direction"] == "in"]
        return rows if len(inbound) == deliveries else None

    rows = wait_until(complete, f"{deliveries} messages in for {address} in the log")
    inbound = [r for r in rows if r["direction"] == "in"]
    outbound = [r for r in rows if r["direction"] == "out"]
    assert len(outbound) >= deliveries, rows
    assert all(r["provider_id"] for r in inbound), rows
    assert len({r["provider_id"] for r in inbound}) == deliveries // 2  # each one twice


def test_ussd_alternating_between_two_processes(stack: Stack) -> None:
    first, second = deployment(stack)
    sessions = count()

    def dial(phone: str, session: str) -> Callable[[Gateway, int], str]:
        def hop(gateway: Gateway, number: int) -> str:
            return gateway.ussd(session, registration(phone)[:number], phone)

        return hop

    steps = len(registration("+97517100001")) + 1
    alternated = converse(
        dial("+97517100001", f"ATUid_alt_{next(sessions)}"), first, second, steps, alternate=True
    )
    alone = converse(
        dial("+97517100002", f"ATUid_one_{next(sessions)}"), first, first, steps, alternate=False
    )

    assert [same_text(s) for s in alternated] == [same_text(s) for s in alone]
    assert alternated[-1].startswith("END Registered! Number BR-"), alternated[-1]
    (reference,) = submissions_of("+97517100001")
    assert reference in alternated[-1]
    assert len(submissions_of("+97517100002")) == 1
    # One certificate SMS each, sent once although the final answer came twice.
    certificates_sent(stack)
    (certificate,) = sms_received(stack, "+97517100001", certificates=True)
    assert certificate.startswith(f"{CERTIFICATE} {reference}:")
    assert len(sms_received(stack, "+97517100002", certificates=True)) == 1
    assert sms_received(stack, "+97517100001") == []  # USSD replies are the responses
    assert_log_complete(first, "+97517100001", 2 * steps)
    assert_log_complete(second, "+97517100002", 2 * steps)
    # The worker archived both conversations' events for the analytics, each once.
    wait_until(
        lambda: sql("SELECT count(*) FROM events WHERE event = 'completed'") == "2",
        "the worker to archive the events",
    )
    assert sql("SELECT count(*) - count(DISTINCT stream_id) FROM events") == "0"


def test_sms_and_web_chat_alternating_between_two_processes(stack: Stack) -> None:
    first, second = deployment(stack)

    def texting(phone: str) -> Callable[[Gateway, int], str]:
        def hop(gateway: Gateway, number: int) -> str:
            text = text_registration(phone)[number]
            return sms(stack, gateway, phone, text, f"ATXid_{phone[1:]}_{number}")

        return hop

    def chatting(user: str, phone: str) -> Callable[[Gateway, int], str]:
        def hop(gateway: Gateway, number: int) -> str:
            text = web_registration(phone)[number]
            if text == CODE:
                text = code_sent(stack, phone)
            return web(gateway, user, text, f"m{number}")

        return hop

    def nothing(screen: str) -> str:
        return ""

    def itself(screen: str) -> str:
        return screen

    for hop, other, citizens, again, steps in [
        (
            texting("+97517200001"),
            texting("+97517200002"),
            ("+97517200001", "+97517200002"),
            nothing,
            len(text_registration("+97517200001")),
        ),
        (
            chatting("u-alt-0001", "+97517400001"),
            chatting("u-one-0001", "+97517400002"),
            ("web:u-alt-0001", "web:u-one-0001"),
            itself,
            len(web_registration("+97517400001")),
        ),
    ]:
        alternated = converse(hop, first, second, steps, alternate=True, again_shows=again)
        alone = converse(other, first, first, steps, alternate=False, again_shows=again)
        assert [same_text(s) for s in alternated] == [same_text(s) for s in alone]
        assert all(alternated), "every answer got a reply"
        assert "Registered! Number BR-" in alternated[-1], alternated[-1]
        (reference,) = submissions_of(citizens[0])
        assert reference in alternated[-1]
        assert len(submissions_of(citizens[1])) == 1
        assert_log_complete(second, citizens[0], 2 * steps)
        assert_log_complete(first, citizens[1], 2 * steps)

        assert LINK.search(alternated[-1]), "the certificate's link is in the final reply"

    # Each SMS reply was sent once (a redelivery sent nothing: see `converse`), and the
    # link came in the final reply rather than as a certificate SMS.
    certificates_sent(stack)
    for phone in ("+97517200001", "+97517200002"):
        assert sms_received(stack, phone, certificates=True) == []
    # Exactly one reference each, numbered without gaps across both processes.
    assert sql("SELECT count(DISTINCT reference) FROM submissions") == "4"
    assert sql("SELECT value FROM reference_counters") == "4"


def rewrite(path: Path, *changes: tuple[str, str]) -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")


def test_processes_started_after_a_reload_run_what_the_others_run(
    stack: Stack, tmp_path: Path
) -> None:
    """A reload through one process's admin API; a process started afterwards (a new
    replica, a restart) continues the citizen pinned to v1 on v1 and offers v2 to a new
    one. A broken v3 left in the folder afterwards is refused by the next process to
    start, which runs v2 like the others."""
    folder = tmp_path / "own-services"
    shutil.copytree(stack.env["GATEWAY_SERVICES_DIR"], folder)
    stack.env["GATEWAY_SERVICES_DIR"] = str(folder)
    definition = folder / "business-registration.yaml"
    first = stack.serve()
    pinned, new, newer = "+97517300001", "+97517300002", "+97517300003"

    def to_type(phone: str) -> list[str]:
        """The answers up to the type of business."""
        return registration(phone)[:2]

    first.dial("ATUid_pinned", to_type(pinned)[:1], pinned)  # on v1, at the business name

    rewrite(
        definition,
        ("version: 1", "version: 2"),
        ("prompt: {en: Type of business,", "prompt: {en: Kind of business,"),
    )
    reload = lost.http(
        "POST", first.url + "/api/v1/admin/services/reload", headers={"Authorization": AUTH}
    )
    assert reload.status == 200, reload.text
    assert reload.json()["changed"] is True

    late = stack.serve()
    assert late.ussd("ATUid_pinned", to_type(pinned), pinned).startswith("CON Type of business")
    assert late.dial("ATUid_new", to_type(new), new).startswith("CON Kind of business")

    rewrite(
        definition,
        ("version: 2", "version: 3"),
        ("prompt: {en: Kind of business,", 'prompt: {en: "Kind {{ answers.nosuch }}",'),
    )
    later = stack.serve()
    assert later.dial("ATUid_newer", to_type(newer), newer).startswith("CON Kind of business")
    (listed,) = [s for s in later.admin("/admin/services") if s["id"] == "business-registration"]
    assert (listed["published"], listed["folder_version"]) == (2, 3)
    assert [p["code"] for p in listed["problems"] if p["severity"] == "error"] == ["E211"]
    assert listed["on_reload"]["outcome"] == "refused"


def worker_environments(pid: int) -> list[dict[str, str]]:
    """The environment of each uvicorn worker process under `pid` (not multiprocessing's
    resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    found = []
    for child in children:
        if b"resource_tracker" in Path(f"/proc/{child}/cmdline").read_bytes():
            continue
        raw = Path(f"/proc/{child}/environ").read_bytes().decode(errors="replace")
        found.append(dict(item.split("=", 1) for item in raw.split("\0") if "=" in item))
    return found


def messages_counted(gateway: Gateway) -> float:
    """`gateway_messages_total{channel="web",direction="in"}` as one scrape reports it."""
    text = gateway.get("/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "gateway_messages_total"
        and sample.labels == {"channel": "web", "direction": "in"}
    )


def test_the_workers_of_one_serve_report_their_metrics_together(
    stack: Stack, tmp_path: Path
) -> None:
    """`gateway serve --workers 2` with no PROMETHEUS_MULTIPROC_DIR of its own: whichever
    worker answers a scrape reports both workers' counts (each request on a new
    connection, so the kernel hands them to either worker)."""
    stack.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    stack.env["TMPDIR"] = str(temporary)  # where serve makes the folder its workers share
    port = free_port()
    process = stack.start("serve", [lost.GATEWAY, "serve", f"--port={port}", "--workers=2"])
    served = stack.ready(Gateway(port, process, stack.logs[-1]))
    for number in range(30):
        web(served, f"u-metrics-{number % 3}", "hello", f"metrics-{number}")
    assert [messages_counted(served) for _ in range(8)] == [30.0] * 8
    (shared,) = temporary.glob("gateway-metrics-*")
    assert list(shared.glob("counter_*.db"))  # prometheus-client's files are there
    # Which worker the kernel hands each connection to is its own choice (one may get
    # them all), so that both share the folder is read from the workers themselves.
    folders = [env.get("PROMETHEUS_MULTIPROC_DIR") for env in worker_environments(process.pid)]
    assert folders == [str(shared), str(shared)]
    stack.stop(process)
    assert list(temporary.iterdir()) == []  # removed when serve stopped
