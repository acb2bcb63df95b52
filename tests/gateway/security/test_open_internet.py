"""The gateway on the open internet: what an attacker saw probing a hurried operator's
gateway on loopback, proved fixed against real `gateway serve` processes, over real HTTP,
as a provider or an attacker reaches them.

Three gateways start at once and are shared by the module's tests:

- `main`: a private redis-server 7 of the test's own (db 0), SQLite under its own
  GATEWAY_VAR_DIR, every secret set, the worker in process sending SMS to a fake
  Africa's Talking (`tests/gateway/fake_providers.py`), numbers of Bhutan and Great Britain
  allowed, a small budget per number range, 5 public page requests a minute per client,
  X-Forwarded-For trusted from 127.0.0.1 (each test names clients of its own with it, so
  no test spends another's limits), the docs, metrics and problems private;
- `closed`: what a hurried operator starts: the embedded Redis 6.2 (no GATEWAY_REDIS_URL),
  `GATEWAY_ADMIN_TOKEN=` set but empty, neither a USSD token nor an allow-list, no trusted
  proxy, 5 public page requests a minute;
- `dev`: GATEWAY_DEVELOPMENT=true (db 1 of the private Redis).

Two more `gateway serve` runs must stop at start (a placeholder and a short admin token).
The census is `bench/fake_census.py`: it holds "+975" and the last 8 digits of a CID as
the citizen's mobile, so a CID of "115" + the caller's last 8 digits confirms the caller
and the business registration takes its instant path. The shared Redis on port 6379 is
never touched. Each process's output stays in the module's temporary folder
(`main/gateway.log`...). The figures (requests tried, messages sent and held back) are
printed: run with `-s` to see them.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from arq.constants import result_key_prefix

from gateway.delivery.outbox import job_id
from gateway.delivery.outgoing import Outgoing
from gateway.providers import WEBHOOKS
from gateway.providers.meta.whatsapp import hub_signature
from gateway.providers.twilio.signature import compute_signature
from tests.gateway.fake_providers import FakeProvider, at_sent, serving
from tests.gateway.processes import base_env, census_services, private_redis, wait_until
from tests.state import free_port

pytestmark = pytest.mark.integration  # `gateway serve` processes and their Redis servers

GATEWAY = str(Path(sys.executable).parent / "gateway")

# Secrets of the `main` gateway: real ones (16 characters or more, no placeholder).
ADMIN = "admin-open-internet-7f3a9c2e41"
USSD_TOKEN = "ussd-open-internet-4b1d8e90c2"
TWILIO_TOKEN = "twilio-open-internet-9c7e21d4"
META_SECRET = "meta-open-internet-5a2f77b3e1"
TELEGRAM_SECRET = "telegram-open-internet-31c8a0"
AT_KEY = "atsk_open_internet_6d02f9"
PUBLIC_URL = "https://gw.example.bt"  # what Twilio signs (GATEWAY_PUBLIC_URL)
CODE = "*384*1#"  # the business registration's USSD code
SHORT_CODE = "21384"  # the gateway's SMS short code
QUEUE = "gateway:outbox"  # arq's queue, GATEWAY_QUEUE_NAME's default
JSON = "application/json"
CERTIFICATE = "Certificate of Business Registration"  # the SMS with a document's link
TOO_FAST = "too quickly"  # the polite "you are sending messages too quickly" reply
YEAR = datetime.now(UTC).year

# Numbers, one group a test. Pumping fraud sends to consecutive numbers of one range.
SATELLITE = [f"+882161234{n:04d}" for n in range(200)]  # Thuraya (+882 16): no country
GB_RANGE = [f"+44740012{n:04d}" for n in range(200)]  # one range of an allowed country
FLOODER = "+97577990001"  # one number, 200 messages
SMS_CITIZEN = "+97517230001"  # registers over SMS while the others pump
USSD_CITIZEN = "+97517240001"  # registers over USSD: the document /verify checks
TWILIO_CITIZEN = "+97517250001"
TWILIO_VICTIM = "+97517250002"  # named by a replayed MessageSid
META_OLD = "+97517260001"  # a WhatsApp message 9 days old
META_FRESH = "+97517260002"
DEV_CITIZEN = "+97517270001"
CLOSED_CALLER = "+97517280001"
BHUTANESE = [
    FLOODER,
    SMS_CITIZEN,
    USSD_CITIZEN,
    TWILIO_CITIZEN,
    TWILIO_VICTIM,
    META_OLD,
    META_FRESH,
    DEV_CITIZEN,
    CLOSED_CALLER,
]
HANDLED = [*BHUTANESE, *GB_RANGE, *SATELLITE]  # every number a gateway handled


def cid(phone: str) -> str:
    """The CID the fake census confirms for `phone` (its mobile is the CID's last 8)."""
    return f"115{phone[-8:]}"


def registration(phone: str) -> list[str]:
    """The business registration's answers after its first screen: the instant path."""
    return [cid(phone), "Pema Tshering Shop", "1", "2", "14", phone[-8:], "1", "1"]


def reference(number: int) -> str:
    return f"BR-{YEAR}-{number:06d}"


# ---- small tools -----------------------------------------------------------------------


def sliding_bound(limit: int, seconds: float) -> int:
    """The most a sliding window counter of `limit` a minute lets through in a burst of
    `seconds`: the limit, and what the previous minute's weight loses meanwhile (a burst
    across a minute's boundary)."""
    return limit + int(limit * seconds / 60) + 1 if seconds > 1 else limit


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]  # names in lower case

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Answer:
    """One HTTP request on a connection of its own (a `Host` given in `headers` is sent
    as it is)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return Answer(response.status, data, {k.lower(): v for k, v in response.getheaders()})
    finally:
        connection.close()


def client(address: str) -> dict[str, str]:
    """Headers naming the client, as a trusted reverse proxy does."""
    return {"X-Forwarded-For": address}


def security_headers_missing(answer: Answer) -> list[str]:
    """What a page lacks of the headers that keep browsers safe."""
    missing = []
    csp = answer.headers.get("content-security-policy", "")
    if "frame-ancestors 'none'" not in csp:
        missing.append(f"Content-Security-Policy with frame-ancestors 'none' (got {csp!r})")
    if answer.headers.get("x-content-type-options") != "nosniff":
        missing.append("X-Content-Type-Options: nosniff")
    if not answer.headers.get("referrer-policy"):
        missing.append("Referrer-Policy")
    return missing


# ---- the processes ---------------------------------------------------------------------


@dataclass
class Gateway:
    """A `gateway serve` process, spoken to over HTTP like a provider or an attacker."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    redis_url: str  # its session store, for the test to look into

    def get(
        self, path: str, headers: dict[str, str] | None = None, timeout: float = 60.0
    ) -> Answer:
        return call(self.port, "GET", path, headers=headers, timeout=timeout)

    def post(
        self, path: str, body: bytes, kind: str, headers: dict[str, str] | None = None
    ) -> Answer:
        return call(
            self.port, "POST", path, body=body, headers={"Content-Type": kind, **(headers or {})}
        )

    def form(
        self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None
    ) -> Answer:
        body = urllib.parse.urlencode(fields).encode()
        return self.post(path, body, "application/x-www-form-urlencoded", headers)

    def json_post(self, path: str, data: Any, headers: dict[str, str] | None = None) -> Answer:
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        return self.post(path, body, "application/json", headers)

    def admin(self, path: str) -> Any:
        answer = self.get(path, {"Authorization": f"Bearer {ADMIN}"})
        assert answer.status == 200, (path, answer.status, answer.text)
        return answer.json()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def events(self) -> list[dict[str, Any]]:
        """The JSON lines of its log (the embedded Redis and others may write text)."""
        found = []
        for line in self.output().splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return found

    def rss_kb(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        assert match is not None, status
        return int(match.group(1))

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url, socket_timeout=5)

    def ussd(self, session: str, answers: list[str], phone: str) -> Answer:
        """Africa's Talking's USSD callback with every answer of the session so far."""
        fields = {
            "sessionId": session,
            "phoneNumber": phone,
            "networkCode": "40211",
            "serviceCode": CODE,
            "text": "*".join(answers),
        }
        return self.form(f"/channels/ussd/africastalking?token={USSD_TOKEN}", fields)

    def sms(self, phone: str, text: str, message_id: str, token: str | None = USSD_TOKEN) -> Answer:
        """Africa's Talking's inbound SMS callback."""
        fields = {
            "from": phone,
            "to": SHORT_CODE,
            "text": text,
            "date": "2026-12-07 10:00:00",
            "id": message_id,
            "linkId": f"link-{message_id}",
        }
        query = f"?token={token}" if token else ""
        return self.form(f"/channels/sms/africastalking{query}", fields)

    def stored(self, citizen: str) -> list[str]:
        """The session store's keys of a citizen (a conversation, a lock, counters)."""
        tag = "{" + citizen + "}"
        with self.redis() as store:
            return [k.decode() for k in store.scan_iter(match="*", count=1000) if tag in k.decode()]


@dataclass
class Deployment:
    main: Gateway
    closed: Gateway
    dev: Gateway
    sms: FakeProvider  # Africa's Talking's messaging API, for `main`

    def sent_to(self, phone: str) -> list[str]:
        """The SMS texts Africa's Talking was asked to send to `phone`."""
        return [form["message"] for form in self.sms.forms() if form.get("to") == phone]

    def queued(self) -> int:
        with self.main.redis() as store:
            return int(store.zcard(QUEUE))


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process (a gateway stops the embedded Redis it started), SIGKILL if
    it is still there 15 s later; then SIGKILL to whatever of its group is left."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def launch(name: str, folder: Path, env: dict[str, str], redis_url: str | None) -> Gateway:
    home = folder / name
    home.mkdir(exist_ok=True)
    env = {**env, "GATEWAY_VAR_DIR": str(home / "var")}
    if redis_url is not None:
        env["GATEWAY_REDIS_URL"] = redis_url
    port = free_port()
    log = home / "gateway.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [GATEWAY, "serve", f"--port={port}"],
            cwd=home,  # no .env of anyone's checkout is read
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    store = redis_url or f"unix://{home / 'var' / 'redis' / 'redis.sock'}"
    return Gateway(name, port, process, log, store)


def ready(gateway: Gateway) -> bool:
    """Whether the gateway answers; False when another process took its port first (the
    port was free when chosen: other suites run on this machine too)."""

    def healthy() -> str | None:
        if gateway.process.poll() is not None:
            return "exited"
        try:
            return "ready" if gateway.get("/healthz", timeout=2).status == 200 else None
        except (OSError, http.client.HTTPException):
            return None

    if wait_until(healthy, f"the {gateway.name} gateway to answer", timeout=40) == "ready":
        return True
    output = gateway.output()
    assert "address already in use" in output.lower(), f"{gateway.name} exited:\n{output}"
    return False


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    folder = tmp_path_factory.mktemp("open-internet")
    with ExitStack() as resources:
        redis_port = resources.enter_context(private_redis(folder / "redis"))
        services = resources.enter_context(census_services(folder))
        sms = resources.enter_context(serving(FakeProvider(at_sent)))
        env = base_env()
        shared = {
            "GATEWAY_SERVICES_DIR": str(services),
            "GATEWAY_USSD_CODES": json.dumps({CODE: "business-registration"}),
        }
        main = {
            **shared,
            "GATEWAY_ADMIN_TOKEN": ADMIN,
            "GATEWAY_USSD_TOKEN": USSD_TOKEN,
            "GATEWAY_AT_API_KEY": AT_KEY,
            "GATEWAY_AT_SMS_URL": sms.url + "/version1/messaging",
            "GATEWAY_WORKER_IN_PROCESS": "true",
            "GATEWAY_WORKER_POLL_SECONDS": "0.05",
            "GATEWAY_ALLOWED_COUNTRIES": json.dumps(["BT", "GB"]),
            "GATEWAY_BUDGET_PER_RANGE": "20/minute;100/day",
            "GATEWAY_PUBLIC_RATE_PER_MINUTE": "5",
            "GATEWAY_TRUSTED_PROXIES": json.dumps(["127.0.0.1"]),
            "GATEWAY_PRIVATE_ENDPOINTS": json.dumps(["docs", "metrics", "problems"]),
            "GATEWAY_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "GATEWAY_PUBLIC_URL": PUBLIC_URL,
            "GATEWAY_TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
            "GATEWAY_META_APP_SECRET": META_SECRET,
        }
        closed = {**shared, "GATEWAY_ADMIN_TOKEN": "", "GATEWAY_PUBLIC_RATE_PER_MINUTE": "5"}
        dev = {**shared, "GATEWAY_DEVELOPMENT": "true"}
        launched: list[Gateway] = []

        def stop_all() -> None:
            for gateway in launched:
                stop(gateway.process)

        resources.callback(stop_all)  # first to run: before Redis, the census, the fake
        store = f"redis://127.0.0.1:{redis_port}"
        settings = {  # name: (environment, GATEWAY_REDIS_URL)
            "main": ({**env, **main}, f"{store}/0"),
            "closed": ({**env, **closed}, None),  # the embedded Redis
            "dev": ({**env, **dev}, f"{store}/1"),
        }
        launched += [launch(name, folder, *settings[name]) for name in settings]
        for n, gateway in enumerate(launched):  # all three start at once
            for _ in range(3):
                if ready(gateway):
                    break
                gateway = launch(gateway.name, folder, *settings[gateway.name])
                launched[n] = gateway
            else:
                raise AssertionError(f"no free port for the {gateway.name} gateway")
        main_gateway, closed_gateway, dev_gateway = launched
        yield Deployment(main_gateway, closed_gateway, dev_gateway, sms)


# ---- 1. the admin token ----------------------------------------------------------------


def test_an_empty_admin_token_keeps_the_admin_api_closed(deployment: Deployment) -> None:
    """`GATEWAY_ADMIN_TOKEN=` (set, empty) is no token: the admin API answers 403 to
    everyone, with or without an Authorization header (an empty bearer included)."""
    closed = deployment.closed
    tried = {
        "none": {},
        "empty bearer": {"Authorization": "Bearer "},
        "a guess": {"Authorization": "Bearer x"},
    }
    for what, headers in tried.items():
        for path in ("/api/v1/submissions", "/api/v1/analytics/business-registration"):
            answer = closed.get(path, headers)
            assert answer.status == 403, (what, path, answer.status, answer.text)
            assert "closed" in answer.json()["detail"]


def test_a_placeholder_or_short_admin_token_stops_the_start(tmp_path: Path) -> None:
    """A placeholder or a 10-character admin token: `gateway serve` exits non-zero at
    start, naming GATEWAY_ADMIN_TOKEN and never writing the value."""
    runs: dict[str, subprocess.Popen[bytes]] = {}
    for value in ("CHANGE-ME-admin-token", "k3y-10char"):
        home = tmp_path / str(len(runs))
        home.mkdir()
        env = {**base_env(), "GATEWAY_ADMIN_TOKEN": value, "GATEWAY_VAR_DIR": str(home / "var")}
        runs[value] = subprocess.Popen(
            [GATEWAY, "serve", f"--port={free_port()}"],
            cwd=home,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    for value, process in runs.items():
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            stop(process)
            process.communicate()
            raise AssertionError(
                f"gateway serve with {len(value)} characters kept running"
            ) from None
        text = output.decode(errors="replace")
        assert process.returncode != 0, text
        assert "GATEWAY_ADMIN_TOKEN" in text, text
        assert value not in text, text
        print(f"[admin token of {len(value)} characters] exit {process.returncode}: {text.strip()}")


# ---- 2. the unsigned callbacks -----------------------------------------------------------


def unsigned_callbacks(gateway: Gateway, phone: str, query: str = "") -> dict[str, Answer]:
    """Africa's Talking's USSD and SMS callbacks and Hubtel's, as their providers send them."""
    ussd = {
        "sessionId": "ATUid_open_1",
        "phoneNumber": phone,
        "networkCode": "40211",
        "serviceCode": CODE,
        "text": "",
    }
    hubtel = {
        "Type": "Initiation",
        "Message": "*384#",
        "ServiceCode": "*384#",
        "Mobile": phone.removeprefix("+"),
        "SessionId": "hubtel-open-1",
        "Sequence": 1,
        "ClientState": "",
    }
    sms = {
        "from": phone,
        "to": SHORT_CODE,
        "text": "hello",
        "date": "2026-12-07 10:00:00",
        "id": "ATXid_open_1",
        "linkId": "link-open-1",
    }
    return {
        "ussd/africastalking": gateway.form("/channels/ussd/africastalking" + query, ussd),
        "ussd/hubtel": gateway.json_post("/channels/ussd/hubtel" + query, hubtel),
        "sms/africastalking": gateway.form("/channels/sms/africastalking" + query, sms),
    }


def access_lines(gateway: Gateway) -> dict[str, list[str]]:
    """What the start log says of each channel: its name -> the access words said."""
    said: dict[str, list[str]] = {}
    pattern = re.compile(r"^channel (\S+) \(POST (\S+)\): (.+)$")
    for event in gateway.events():
        found = pattern.match(str(event.get("event", "")))
        if found:
            name, path, access = found.groups()
            assert path == "/channels" + WEBHOOKS[name].path, event
            said.setdefault(name, []).append(access)
    return said


def test_unsigned_callbacks_are_closed_without_a_token_or_an_allow_list(
    deployment: Deployment,
) -> None:
    """No GATEWAY_USSD_TOKEN, no GATEWAY_USSD_ALLOWED_IPS, no GATEWAY_DEVELOPMENT: the
    callbacks providers do not sign answer 403 and nothing is stored; the start log says,
    one line a channel, which are authenticated, public or closed. With the token set
    (`main`) a missing or wrong token is a 403 too."""
    closed = deployment.closed
    for name, answer in unsigned_callbacks(closed, CLOSED_CALLER).items():
        assert answer.status == 403, (name, answer.status, answer.text)
    assert closed.stored(CLOSED_CALLER) == []

    said = access_lines(closed)
    assert sorted(said) == sorted(WEBHOOKS), said
    expected = {name: ["public" if name == "web" else "closed"] for name in WEBHOOKS}
    assert said == expected

    main = deployment.main
    for query in ("", "?token=wrong-token-of-enough-length"):
        for name, answer in unsigned_callbacks(main, CLOSED_CALLER, query).items():
            assert answer.status == 403, (name, query, answer.status, answer.text)
    assert main.stored(CLOSED_CALLER) == []
    said = access_lines(main)
    assert said == {name: ["public" if name == "web" else "authenticated"] for name in WEBHOOKS}, (
        said
    )


def test_development_opens_the_callbacks_and_names_every_open_endpoint(
    deployment: Deployment,
) -> None:
    """GATEWAY_DEVELOPMENT=true: the unsigned callbacks answer without a token, and a
    warning at start names every endpoint left open."""
    dev = deployment.dev
    answers = unsigned_callbacks(dev, DEV_CITIZEN)
    assert answers["ussd/africastalking"].status == 200, answers["ussd/africastalking"].text
    assert answers["ussd/africastalking"].text.startswith("CON "), answers["ussd/africastalking"]
    assert answers["ussd/hubtel"].status == 200, answers["ussd/hubtel"].text
    assert answers["ussd/hubtel"].json()["Type"] == "Response"
    assert answers["sms/africastalking"].status == 200, answers["sms/africastalking"].text

    said = access_lines(dev)
    unsigned = {
        "ussd/africastalking",
        "ussd/africastalking/events",
        "ussd/hubtel",
        "sms/africastalking",
        "sms/africastalking/reports",
    }
    for name in WEBHOOKS:
        wanted = (
            "open (development)" if name in unsigned else "public" if name == "web" else "closed"
        )
        assert said.get(name) == [wanted], (name, said.get(name))
    warnings = [
        str(e["event"])
        for e in dev.events()
        if e.get("level") == "warning" and "GATEWAY_DEVELOPMENT" in str(e.get("event"))
    ]
    assert len(warnings) == 1, warnings
    named = set(re.findall(r"/channels/[a-z/]+", warnings[0]))
    assert named == {"/channels" + WEBHOOKS[name].path for name in unsigned}, warnings[0]


# ---- 3. SMS pumping ----------------------------------------------------------------------


def reply_sent(gateway: Gateway, message_id: str) -> bool:
    """Whether the worker finished sending the replies to an inbound SMS."""
    outgoing = Outgoing("sms/africastalking", "", [], key=f"at-sms:{message_id}")
    job = job_id(outgoing)
    assert job is not None
    with gateway.redis() as store:
        return bool(store.exists(result_key_prefix + job))


def text_registration(deployment: Deployment, phone: str) -> list[str]:
    """A citizen registers a business over SMS, one message at a time: the screens."""
    main = deployment.main
    screens = []
    for number, text in enumerate(["hello", "2", *registration(phone)]):
        before = len(deployment.sent_to(phone))
        message_id = f"ATXid_citizen_{number}"
        answer = main.sms(phone, text, message_id)
        assert answer.status == 200, answer.text

        def sent(message_id: str = message_id) -> bool:
            return reply_sent(main, message_id)

        wait_until(sent, f"the reply to {text!r}", timeout=20)
        replies = [t for t in deployment.sent_to(phone)[before:] if not t.startswith(CERTIFICATE)]
        screens.append("\n".join(replies))
    return screens


def test_sms_pumping_is_held_back_while_a_citizen_still_registers(
    deployment: Deployment,
) -> None:
    """SMS pumping against the Africa's Talking callback (token set): 200 numbers of a
    satellite range get nothing; 200 numbers of one allowed range (GB) get at most the
    range budget (20/minute); one number sending 200 messages gets at most the inbound
    limit (30/minute: one polite "too quickly" reply, then silence). Meanwhile a citizen
    of Bhutan registers a business over SMS: every screen advances to the reference."""
    main = deployment.main
    started = time.monotonic()

    def pump(phone: str, message_id: str) -> int:
        return main.sms(phone, "hi", message_id).status

    def flood() -> list[int]:
        return [pump(FLOODER, f"ATXid_flood_{n}") for n in range(200)]

    with ThreadPoolExecutor(8) as pool:
        satellite = [pool.submit(pump, p, f"ATXid_sat_{n}") for n, p in enumerate(SATELLITE)]
        gb = [pool.submit(pump, p, f"ATXid_gb_{n}") for n, p in enumerate(GB_RANGE)]
        one = pool.submit(flood)
        screens = text_registration(deployment, SMS_CITIZEN)  # meanwhile
        registered_at = time.monotonic() - started
        statuses = Counter(f.result() for f in [*satellite, *gb]) + Counter(one.result())
    pumped_in = time.monotonic() - started
    assert statuses == Counter({200: 600}), statuses  # providers get their normal answer

    # The citizen finished, screen after screen.
    assert all(screens), screens
    assert all(a != b for a, b in itertools.pairwise(screens)), screens
    assert "Register a business" in screens[0], screens[0]
    assert "citizenship ID" in screens[1], screens[1]
    assert "Welcome Pema Wangmo" in screens[2], screens[2]
    assert screens[-1].startswith(f"Registered! Number BR-{YEAR}-"), screens[-1]

    wait_until(lambda: deployment.queued() == 0, "the worker to empty the queue", timeout=30)
    to_satellite = [f for f in deployment.sms.forms() if f["to"] in set(SATELLITE)]
    to_range = [f for f in deployment.sms.forms() if f["to"] in set(GB_RANGE)]
    to_flooder = deployment.sent_to(FLOODER)
    assert to_satellite == []
    assert 1 <= len(to_range) <= sliding_bound(20, pumped_in), len(to_range)
    assert 1 <= len(to_flooder) <= 31, to_flooder
    assert sum(TOO_FAST in text for text in to_flooder) <= 1, to_flooder

    # What the conversation answered the flooder (sent or held back): 30 replies, one
    # "too quickly", then nothing, whatever the budgets then let through.
    flooder = wait_until(lambda: logged(main, FLOODER, 200), "the flooder's messages logged")
    answered = [row for row in flooder if row["direction"] == "out"]
    assert len(answered) <= 31, len(answered)
    polite = [row for row in answered if TOO_FAST in row["text"]]
    assert len(polite) == 1, [row["text"] for row in answered]
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda p: logged(main, p, 1) or [], GB_RANGE))
    rows = [row for rows_of_one in found for row in rows_of_one]
    range_out = Counter(row["status"] for row in rows if row["direction"] == "out")
    flooder_out = Counter(row["status"] for row in answered)
    citizen = deployment.sent_to(SMS_CITIZEN)
    print(
        f"\n[sms pumping] {sum(statuses.values())} callbacks + {len(screens)} of the citizen "
        f"in {pumped_in:.1f} s (the citizen registered after {registered_at:.1f} s)"
        f"\n  satellite +88216: 200 numbers tried, {len(to_satellite)} SMS sent, "
        f"nothing answered"
        f"\n  GB range +44740012xxxx: 200 numbers tried, {len(to_range)} SMS sent; "
        f"replies {dict(range_out)} (range budget 20/minute)"
        f"\n  one number, 200 messages: {len(to_flooder)} SMS sent; replies "
        f"{dict(flooder_out)}, one of them 'too quickly' ({len(flooder)} log rows)"
        f"\n  the citizen: {len(citizen)} SMS for {len(screens)} screens (the last one "
        f"with the certificate's link)"
        f"\n  every SMS that reached the provider so far: {len(deployment.sms.calls)}"
    )


def logged(gateway: Gateway, address: str, inbound: int) -> list[dict[str, Any]] | None:
    """The message log of an address once it holds `inbound` messages in."""
    quoted = urllib.parse.quote(address, safe="")
    rows: list[dict[str, Any]] = gateway.admin(f"/api/v1/messages?address={quoted}&limit=1000")
    return rows if sum(row["direction"] == "in" for row in rows) >= inbound else None


# ---- 4. web chat -------------------------------------------------------------------------


def test_web_chat_flood_from_one_client_is_limited(deployment: Deployment) -> None:
    """1,000 messages from one client: past GATEWAY_WEB_PER_CLIENT (60/minute) a 429 with
    a polite reply the page shows and Retry-After; Redis holds a bounded number of keys."""
    main = deployment.main
    headers = client("198.51.100.10")
    message = json.dumps({"user": "flood-client-01", "text": "hello"}).encode()
    with main.redis() as store:
        keys_before = int(store.dbsize())

    def send(_: int) -> Answer:
        return main.post("/channels/web/messages", message, "application/json", headers)

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(1000)))
    seconds = time.monotonic() - started
    with main.redis() as store:
        keys_after = int(store.dbsize())

    statuses = Counter(a.status for a in answers)
    assert set(statuses) == {200, 429}, statuses
    assert statuses[200] <= sliding_bound(60, seconds), statuses
    refused = [a for a in answers if a.status == 429]
    for answer in refused:
        body = answer.json()
        assert TOO_FAST in body["replies"][0]["text"], body
        assert body["ended"] is False
        assert int(answer.headers["retry-after"]) >= 1, answer.headers
    assert keys_after - keys_before < 100, (keys_before, keys_after)
    print(
        f"\n[web chat] 1000 messages in {seconds:.1f} s: {statuses[200]} answered, "
        f"{statuses[429]} refused with 429; Redis keys {keys_before} -> {keys_after}"
    )


def oversized(
    port: int,
    path: str,
    *,
    size: int,
    chunked: bool,
    headers: dict[str, str],
    kind: str = "application/json",
) -> tuple[int, float, int]:
    """POST a body of `size` bytes (declared, or chunked) and stop writing as soon as the
    gateway answers: its status, the seconds it took, the bytes written."""
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Type: {kind}"]
    head += [f"{name}: {value}" for name, value in headers.items()]
    head.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}")
    pending = ("\r\n".join(head) + "\r\n\r\n").encode()
    piece = b"[" * 65536
    remaining, written, answer = size, 0, b""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock, selectors.DefaultSelector() as sel:
        sock.setblocking(False)
        sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
        writing = True
        while time.monotonic() - started < 30:
            for _, events in sel.select(1):
                if events & selectors.EVENT_READ:  # the answer first, before any write
                    try:
                        data = sock.recv(65536)
                    except ConnectionResetError:
                        data = b""
                    answer += data
                    if not data or b"\r\n\r\n" in answer:
                        status = int(answer.split(b" ", 2)[1]) if answer else 0
                        return status, time.monotonic() - started, written
                    continue
                if writing and events & selectors.EVENT_WRITE:
                    if not pending and remaining > 0:
                        n = min(remaining, len(piece))
                        remaining -= n
                        pending = (
                            f"{n:x}\r\n".encode() + piece[:n] + b"\r\n" if chunked else piece[:n]
                        )
                        if chunked and remaining == 0:
                            pending += b"0\r\n\r\n"
                    if not pending:
                        writing = False
                        sel.modify(sock, selectors.EVENT_READ)
                        continue
                    try:
                        sent = sock.send(pending)
                    except (BrokenPipeError, ConnectionResetError):
                        writing = False
                        sel.modify(sock, selectors.EVENT_READ)
                        continue
                    pending, written = pending[sent:], written + sent
    raise AssertionError(f"no answer to a {size} byte body in 30 s ({written} bytes written)")


def test_oversized_bodies_are_refused_before_they_are_read(deployment: Deployment) -> None:
    """A 100 MB body gets a 413 at once when declared; chunked, a webhook gets 411 or 413
    unread (providers declare their bodies' length) and any other endpoint a 413 once the
    stream passes the limit. None of them grows the process by more than a few MB."""
    main = deployment.main
    web = client("198.51.100.20")
    big = 100 * 2**20
    form = "application/x-www-form-urlencoded"
    decision = f"/api/v1/submissions/{reference(1)}/decision"
    admin = {"Authorization": f"Bearer {ADMIN}"}
    warm = oversized(main.port, "/channels/web/messages", size=70_000, chunked=False, headers=web)
    assert warm[0] == 413, warm
    probes: list[tuple[str, tuple[int, ...], str, bool, dict[str, str], str]] = [
        ("web, declared", (413,), "/channels/web/messages", False, web, JSON),
        ("web, chunked", (411, 413), "/channels/web/messages", True, web, JSON),
        ("whatsapp/meta, declared", (413,), "/channels/whatsapp/meta", False, {}, JSON),
        (
            "ussd, chunked form",
            (411, 413),
            f"/channels/ussd/africastalking?token={USSD_TOKEN}",
            True,
            {},
            form,
        ),
        ("admin decision, declared", (413,), decision, False, admin, JSON),
        ("admin decision, chunked", (413,), decision, True, admin, JSON),
    ]
    before = main.rss_kb()
    tried = {
        what: (wanted, *oversized(main.port, path, size=big, chunked=chunked, headers=h, kind=k))
        for what, wanted, path, chunked, h, k in probes
    }
    after = main.rss_kb()
    for what, (wanted, status, seconds, _) in tried.items():
        assert status in wanted, (what, status)
        assert seconds < 3, (what, seconds)
    assert after - before < 5 * 1024, (before, after)
    print("\n[bodies]", f"VmRSS {before} -> {after} kB")
    for what, (_, status, seconds, written) in tried.items():
        print(f"  {what}, 100 MB: {status} in {seconds * 1000:.0f} ms ({written // 1024} KB sent)")


# ---- 5. public page rate limits ----------------------------------------------------------


def test_public_page_rate_limit_on_the_embedded_redis_6(deployment: Deployment) -> None:
    """On the embedded Redis (6.2: the old limiter's `EXPIRE NX` failed there and let
    everyone through), the 6th /verify within a minute from one client is a 429; without
    trusted proxies, a loopback client changing X-Forwarded-For is still the same client."""
    closed = deployment.closed
    with closed.redis() as store:
        version = str(store.info("server")["redis_version"])
    assert version.startswith("6.2"), version
    path = f"/verify/{reference(1)}"
    first = [closed.get(path, client(f"203.0.113.{n}")).status for n in range(1, 6)]
    assert first == [200] * 5, first
    sixth = closed.get(path, client("203.0.113.99"))
    assert sixth.status == 429, sixth.status
    assert int(sixth.headers["retry-after"]) >= 1
    assert closed.get(path).status == 429
    print(f"\n[verify, embedded Redis {version}] 7 requests: 5 answered, 2 refused (429)")


def test_public_page_rate_limit_on_redis_7_behind_a_trusted_proxy(deployment: Deployment) -> None:
    """On Redis 7, behind GATEWAY_TRUSTED_PROXIES=["127.0.0.1"]: the 6th /verify of a
    client is a 429, another client named by X-Forwarded-For has a count of its own, and
    a client cannot escape its count by prepending an address to the header."""
    main = deployment.main
    with main.redis() as store:
        version = str(store.info("server")["redis_version"])
    assert version.startswith("7."), version
    path = f"/verify/{reference(1)}"
    a, b = "203.0.113.10", "203.0.113.11"
    first = [main.get(path, client(a)).status for _ in range(5)]
    assert first == [200] * 5, first
    assert main.get(path, client(a)).status == 429
    assert main.get(path, client(b)).status == 200
    assert main.get(path, {"X-Forwarded-For": f"{b}, {a}"}).status == 429
    print(f"\n[verify, Redis {version}] client A: 5 answered then 429; client B: answered")


# ---- 6. USSD numbers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "web:abc",
        "telegram:1",
        # A local number: not "+1 7123456" (possible only locally in North America).
        "17123456",
        "abcdefgh",
    ],
)
def test_a_ussd_phone_number_must_be_e164(deployment: Deployment, number: str) -> None:
    """`phoneNumber` names the citizen: anything but an E.164 number is a 400, and
    nothing is stored for it (no session keys, nothing in the message log)."""
    main = deployment.main
    answer = main.ussd(f"ATUid_e164_{abs(hash(number))}", [], number)
    assert answer.status == 400, (number, answer.status, answer.text)
    hubtel = main.json_post(
        f"/channels/ussd/hubtel?token={USSD_TOKEN}",
        {"Type": "Initiation", "Mobile": number, "SessionId": "hubtel-e164", "Sequence": 1},
    )
    assert hubtel.status == 400, (number, hubtel.status, hubtel.text)
    for address in (number, "+" + number):
        assert main.stored(address) == [], address
        quoted = urllib.parse.quote(address, safe="")
        assert main.admin(f"/api/v1/messages?address={quoted}") == [], address


# ---- 7. deep JSON and out-of-range numbers -----------------------------------------------


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_deeply_nested_json_is_a_4xx_never_a_500(deployment: Deployment) -> None:
    """JSON nested 100,000 deep (and 32,000 deep, under the 64 KB body limit, so that the
    parser itself sees it) to every JSON webhook: a 4xx, never a 500."""
    main = deployment.main
    endpoints: dict[str, tuple[str, Callable[[bytes], dict[str, str]]]] = {
        "web": ("/channels/web/messages", lambda body: client("198.51.100.30")),
        "hubtel": (f"/channels/ussd/hubtel?token={USSD_TOKEN}", lambda body: {}),
        "telegram": (
            "/channels/telegram",
            lambda body: {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
        ),
        "whatsapp/meta": (
            "/channels/whatsapp/meta",
            lambda body: {"X-Hub-Signature-256": hub_signature(META_SECRET, body)},
        ),
    }
    crashes = main.output().count("Exception in ASGI application")
    seen = {}
    for name, (path, signed) in endpoints.items():
        for depth in (100_000, 32_000):
            for body in (nested(depth), b'{"a":' * depth + b"1" + b"}" * depth):
                answer = main.post(path, body, "application/json", signed(body))
                assert 400 <= answer.status < 500, (name, depth, answer.status, answer.text)
                if len(body) <= 64 * 1024 or name == "whatsapp/meta":
                    assert answer.status == 400, (name, depth, answer.status)  # parsed
                seen[(name, depth, body[:1].decode())] = answer.status
    assert main.output().count("Exception in ASGI application") == crashes  # none logged
    print(f"\n[deep JSON] {len(seen)} bodies: {sorted(Counter(seen.values()).items())}")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        # Past what the database holds: refused by the parameters' bounds.
        ("GET", f"/api/v1/submissions?offset={2**63}"),
        ("GET", f"/api/v1/submissions?offset={10**30}"),
        ("POST", f"/api/v1/notifications/{2**63}/retry"),
        ("GET", f"/api/v1/messages?address=%2B97517230001&limit={2**63}"),
        # Times whose offset takes them out of the calendar in UTC.
        ("GET", "/api/v1/analytics/business-registration?since=0001-01-01T00:00:00%2B05:00"),
        ("GET", "/api/v1/analytics/business-registration?until=9999-12-31T23:59:59-05:00"),
        ("GET", "/api/v1/analytics/business-registration?since=99999-01-01T00:00:00"),
    ],
)
def test_out_of_range_admin_numbers_and_dates_are_a_4xx_never_a_500(
    deployment: Deployment, method: str, path: str
) -> None:
    """Offsets and ids at or past 2**63 and dates past the calendar's ends: a 4xx (e.g.
    422), never a 500."""
    answer = call(deployment.main.port, method, path, headers={"Authorization": f"Bearer {ADMIN}"})
    assert 400 <= answer.status < 500, (path, answer.status, answer.text)


# ---- 8. replays --------------------------------------------------------------------------


def twilio_sms(gateway: Gateway, sid: str, sender: str, body: str) -> Answer:
    """Twilio's inbound SMS webhook, signed as Twilio signs it (over GATEWAY_PUBLIC_URL)."""
    path = "/channels/sms/twilio"
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+97517000000",
        "Body": body,
        "NumMedia": "0",
    }
    signature = compute_signature(TWILIO_TOKEN, PUBLIC_URL + path, params)
    return gateway.form(path, params, {"X-Twilio-Signature": signature})


def messages_in_twiml(answer: Answer) -> list[str]:
    return re.findall(r"<Message>(.*?)</Message>", answer.text, re.DOTALL)


def test_a_replayed_twilio_sms_gets_the_same_twiml_and_has_one_effect(
    deployment: Deployment,
) -> None:
    """A signed Twilio SMS posted twice gets the same TwiML, and the conversation moves
    once: the next answer is taken for the step after it."""
    main = deployment.main
    sid = "SM" + "1" * 32
    menu = twilio_sms(main, "SM" + "0" * 32, TWILIO_CITIZEN, "hello")
    assert menu.status == 200, menu.text
    assert "Register a business" in menu.text
    first = twilio_sms(main, sid, TWILIO_CITIZEN, "2")
    again = twilio_sms(main, sid, TWILIO_CITIZEN, "2")
    assert first.status == again.status == 200
    assert first.body == again.body
    assert "citizenship ID" in " ".join(messages_in_twiml(first)), first.text
    # Had "2" been taken twice, it would be the citizenship ID here (and refused).
    after = twilio_sms(main, "SM" + "2" * 32, TWILIO_CITIZEN, cid(TWILIO_CITIZEN))
    assert "Welcome Pema Wangmo" in after.text, after.text


def test_a_message_sid_replayed_for_another_number_is_not_processed(
    deployment: Deployment,
) -> None:
    """The same MessageSid, re-signed with another `From` (as one who can re-split the
    signed string could): no reply to that number, no conversation started for it."""
    main = deployment.main
    sid = "SM" + "3" * 32
    original = twilio_sms(main, sid, TWILIO_CITIZEN, "hello")
    assert original.status == 200
    assert messages_in_twiml(original), original.text
    replay = twilio_sms(main, sid, TWILIO_VICTIM, "hello")
    assert replay.status == 200, replay.text
    assert messages_in_twiml(replay) == [], replay.text
    assert not [k for k in main.stored(TWILIO_VICTIM) if k.endswith((":s", ":lock"))]


def meta_webhook(phone: str, wamid: str, sent: float) -> bytes:
    message = {
        "from": phone.removeprefix("+"),
        "id": wamid,
        "timestamp": str(int(sent)),
        "type": "text",
        "text": {"body": "hello"},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "97517000000", "phone_number_id": "1098765"},
        "contacts": [{"profile": {"name": "Pema"}, "wa_id": phone.removeprefix("+")}],
        "messages": [message],
    }
    change = {"field": "messages", "value": value}
    hook = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}
    return json.dumps(hook).encode()


def test_a_whatsapp_message_older_than_8_days_is_acknowledged_and_ignored(
    deployment: Deployment,
) -> None:
    """Meta's webhook (signed) with a message 9 days old: 200, and nothing happens; the
    same message sent now starts a conversation."""
    main = deployment.main

    def post(phone: str, wamid: str, sent: float) -> Answer:
        body = meta_webhook(phone, wamid, sent)
        signature = {"X-Hub-Signature-256": hub_signature(META_SECRET, body)}
        return main.post("/channels/whatsapp/meta", body, "application/json", signature)

    old = post(META_OLD, "wamid.OLD" + "0" * 20, time.time() - 9 * 24 * 3600)
    assert old.status == 200, old.text
    assert old.json() == {"status": "ok"}
    assert main.stored(META_OLD) == []
    fresh = post(META_FRESH, "wamid.NEW" + "0" * 20, time.time())
    assert fresh.status == 200, fresh.text
    assert [k for k in main.stored(META_FRESH) if k.endswith(":s")]  # the control


# ---- 9. the verification page ------------------------------------------------------------

HIDDEN = ("Pema", "P***", "Holder", "Issued", "Ministry", "Valid", "valid.", "Revoked", "issued")


def test_verify_shows_nothing_without_the_document_check_code(deployment: Deployment) -> None:
    """A real instant registration over USSD; then /verify/<reference> alone, for
    references 1 to 3 (the real one among them), shows the same form and nothing else;
    with the document's check code it says valid with the holder masked; with a wrong
    code, nothing more than the bare reference."""
    main = deployment.main
    answers = registration(USSD_CITIZEN)
    screen = ""
    for count in range(len(answers) + 1):
        answer = main.ussd("ATUid_verify_1", answers[:count], USSD_CITIZEN)
        assert answer.status == 200, answer.text
        screen = answer.text
    assert screen.startswith(f"END Registered! Number BR-{YEAR}-"), screen
    (submission,) = main.admin(f"/api/v1/submissions?citizen={urllib.parse.quote(USSD_CITIZEN)}")
    real, code = submission["reference"], submission["check_code"]
    assert code, submission

    walked = sorted({reference(1), reference(2), reference(3), real})
    bare = {}
    for n, ref in enumerate(walked):
        page = main.get(f"/verify/{ref}", client(f"203.0.113.{40 + n}"))
        assert page.status == 200, (ref, page.status)
        assert "Enter the check code" in page.text
        for word in HIDDEN:
            assert word not in page.text, (ref, word)
        assert datetime.now(UTC).date().isoformat() not in page.text
        bare[ref] = page.text.replace(ref, "<ref>")
    assert len(set(bare.values())) == 1, "the pages of existing and unknown references differ"

    right = main.get(f"/verify/{real}?code={code}", client("203.0.113.50"))
    assert right.status == 200, right.text
    assert "Valid document" in right.text
    assert "P*** W*****" in right.text
    assert "Pema Wangmo" not in right.text

    wrong_code = "A" * len(code) if code != "A" * len(code) else "B" * len(code)
    wrong = main.get(f"/verify/{real}?code={wrong_code}", client("203.0.113.51"))
    unknown = main.get(f"/verify/{reference(999999)}?code={wrong_code}", client("203.0.113.52"))
    assert wrong.status == unknown.status == 404
    for word in HIDDEN:
        assert word not in wrong.text, word
    assert wrong.text.replace(real, "<ref>") == unknown.text.replace(reference(999999), "<ref>")
    print(f"\n[verify] walked {walked}: one form, nothing shown; {real} with its code: valid")


# ---- 10. pages ---------------------------------------------------------------------------


def test_pages_carry_the_security_headers(deployment: Deployment) -> None:
    """/verify, a /d/ 404 page, /chat, /docs and error pages: CSP with frame-ancestors
    'none', nosniff and a Referrer-Policy."""
    main = deployment.main
    bearer = {"Authorization": f"Bearer {ADMIN}"}
    pages = {
        "/verify": main.get(f"/verify/{reference(1)}", client("203.0.113.60")),
        "/d/ (404)": main.get("/d/" + "A" * 22, client("203.0.113.61")),
        "/chat": main.get("/chat"),
        "/docs": main.get("/docs", bearer),
        "404": main.get("/no-such-page"),
        "401": main.get("/api/v1/submissions"),
        "405": call(main.port, "DELETE", "/chat"),
        "422": main.get(f"/verify/{reference(1)}?code={'X' * 40}", client("203.0.113.62")),
    }
    statuses = {name: answer.status for name, answer in pages.items()}
    assert statuses == {
        "/verify": 200,
        "/d/ (404)": 404,
        "/chat": 200,
        "/docs": 200,
        "404": 404,
        "401": 401,
        "405": 405,
        "422": 422,
    }, statuses
    for name, answer in pages.items():
        assert security_headers_missing(answer) == [], name


def test_a_trailing_slash_with_a_foreign_host_is_not_redirected_there(
    deployment: Deployment,
) -> None:
    """`GET /chat/` with `Host: evil.example`: a 404 (or a relative redirect), never a
    redirect to evil.example."""
    for gateway in (deployment.main, deployment.closed):
        for path in ("/chat/", "/docs/", f"/verify/{reference(1)}/", "/healthz/"):
            answer = gateway.get(path, {"Host": "evil.example"})
            location = answer.headers.get("location", "")
            assert "evil.example" not in location, (gateway.name, path, location)
            if 300 <= answer.status < 400:
                assert location.startswith("/"), location  # relative: this server
                assert not location.startswith("//"), location
            else:
                assert answer.status == 404, (gateway.name, path, answer.status)


def test_private_endpoints_need_the_admin_token(deployment: Deployment) -> None:
    """GATEWAY_PRIVATE_ENDPOINTS=["docs","metrics","problems"]: /docs, /redoc,
    /openapi.json, /metrics and /api/v1/services/problems answer 401 without the admin
    token (and with a wrong one), 200 with it; a client that keeps guessing gets 429."""
    main = deployment.main
    paths = ("/docs", "/redoc", "/openapi.json", "/metrics", "/api/v1/services/problems")
    for n, path in enumerate(paths):
        who = client(f"192.0.2.{n + 1}")  # a client each: failures are counted per client
        assert main.get(path, who).status == 401, path
        wrong = main.get(path, {"Authorization": "Bearer not-the-admin-token-at-all", **who})
        assert wrong.status == 401, path
        assert main.get(path, {"Authorization": f"Bearer {ADMIN}", **who}).status == 200, path
    guesser = client("192.0.2.99")
    guesses = [main.get("/metrics", guesser).status for _ in range(11)]
    assert guesses == [401] * 10 + [429], guesses


# ---- 11. logs ----------------------------------------------------------------------------


def unmasked(text: str, digits: str) -> bool:
    return re.search(rf"(?<!\d){re.escape(digits)}(?!\d)", text) is not None


def test_the_logs_never_hold_a_full_citizen_number(deployment: Deployment) -> None:
    """The JSON log lines of every gateway hold no number it handled in full, in E.164
    or local form, nor a CID; the masked forms show they were logged."""
    main = deployment.main
    # Something more to log: a message held for the range budget, a number refused.
    main.sms(GB_RANGE[7], "hi again", "ATXid_log_1")
    main.sms(SATELLITE[7], "hi again", "ATXid_log_2")
    wait_until(lambda: deployment.queued() == 0, "the worker to empty the queue", timeout=30)
    time.sleep(0.5)  # a log line written after its response
    found = []
    lines = 0
    for gateway in (deployment.main, deployment.closed, deployment.dev):
        text = gateway.output()
        lines += len(text.splitlines())
        for number in HANDLED:
            forms = [number, number.removeprefix("+")]
            if number.startswith("+975"):
                forms += [number[-8:], cid(number)]
            if number.startswith("+44"):
                forms += ["0" + number[3:]]
            found += [(gateway.name, form) for form in forms if unmasked(text, form)]
    assert found == [], found[:20]
    masked = sorted(set(re.findall(r"\+[0-9]{0,3}\*{3,}[0-9]{3}", main.output())))
    examples = [m for m in masked if m.startswith("+975")][:2] + masked[:2]
    print(
        f"\n[logs] {lines} lines of 3 gateways, {len(HANDLED)} numbers: none in full; "
        f"{len(masked)} masked numbers, e.g. {examples}"
    )
