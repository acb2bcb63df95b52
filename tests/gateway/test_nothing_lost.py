"""Nothing is lost when a process dies: real `gateway serve` and `gateway worker` processes
on a private Redis and a PostgreSQL database of their own, killed with SIGKILL at precise
points reached with real components (a PostgreSQL table lock held by the test, Redis
`CLIENT PAUSE WRITE`, an S3 endpoint that never answers), never with timing guesses.

- The gateway killed while the confirmation is being stored, or after it is stored and
  before its SMS is queued: started again, the citizen's retried answer gets one reference,
  the relay queues what was owed, the worker sends one link, the link serves the PDF.
- The worker killed while it makes the document: the job runs again on another worker
  once the dead one's claim expires, and the citizen gets one link.
- The worker's database connection lost during the job: the link must still go out once
  the database is back (fails today: the job's failed result blocks the relay for a day).
- Two gateway processes confirming twenty registrations at once: references unique and
  gapless.

Africa's Talking is faked on loopback (`tests/gateway/fake_providers.py`), the census by
`bench/fake_census.py` in a subprocess. Redis and PostgreSQL must be there: a test fails,
never skips, without them. Each process's output stays in the test's `tmp_path`
(`serve-0.log`, `worker-1.log`...).
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
import redis
from arq.constants import result_key_prefix
from arq.jobs import JobResult, deserialize_result

from tests.gateway.fake_providers import FakeProvider, at_sent, serving
from tests.gateway.processes import base_env, private_redis, wait_until
from tests.gateway.processes import census_services as services_on_fake_census
from tests.state import free_port

pytestmark = pytest.mark.integration  # gateway processes, a private Redis, PostgreSQL

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = str(Path(sys.executable).parent / "gateway")
DATABASE = f"gateway_nothing_lost_{os.getpid()}"  # two runs at once never meet
PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
TEST_APP = "nothing_lost_test"  # application_name of the test's own PostgreSQL sessions
ADMIN = "admin-nothing-lost-5c2e8f"
LINKS = "https://gw.gov.bt"
CODE = "*384*1#"
QUEUE = "gateway:outbox"  # arq's queue (a sorted set of job ids), GATEWAY_QUEUE_NAME's default
CITIZEN = "+97517123456"


def registration(phone: str) -> list[str]:
    """The USSD answers of `phone`'s citizen. The fake census holds +975 and its CID's last
    8 digits as the citizen's mobile: with the CID "115" + the number's last 8 digits, it
    confirms the caller, and the registration takes its instant path (certificate, SMS)."""
    return [f"115{phone[-8:]}", "Pema Tshering Shop", "1", "2", "14", "17123456", "1", "1"]


REGISTRATION = registration(CITIZEN)
LINK = re.compile(r"https://gw\.gov\.bt/d/([A-Za-z0-9_-]{22})")
TRY_AGAIN = "try again"  # the gateway's "temporarily unavailable" screen
DOCUMENT_KEY = "business-registration/{reference}/certificate-{id}.pdf"
JOB_TIMEOUT = 3.0  # GATEWAY_JOB_TIMEOUT_SECONDS of the worker that is killed
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# ---- small tools -----------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    method: str,
    url: str,
    *,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Response:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with NO_PROXY.open(request, timeout=timeout) as answer:
            return Response(
                answer.status, answer.read(), {k.lower(): v for k, v in answer.headers.items()}
            )
    except urllib.error.HTTPError as error:
        with error:
            return Response(
                error.code, error.read(), {k.lower(): v for k, v in error.headers.items()}
            )


def sql(query: str, database: str = DATABASE) -> str:
    """One query through psql; its rows, `|`-separated, one a line."""
    done = subprocess.run(
        [*PSQL, "-d", database, "-tA", "-c", query],
        capture_output=True,
        text=True,
        timeout=15,
        env={**os.environ, "PGAPPNAME": TEST_APP},
        check=False,
    )
    assert done.returncode == 0, f"psql failed ({query}): {done.stderr}"
    return done.stdout.strip()


# The submission's one statement (state/submissions.py `_SUBMIT_PG`) as PostgreSQL shows
# it: pg_stat_activity keeps a query's first 1,024 bytes, and its INSERT INTO
# notifications comes later.
SUBMITTING = "INSERT INTO submissions"


def lock_waiters(statement: str) -> int:
    """The gateway's sessions waiting for a lock in a statement containing `statement`."""
    return int(
        sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            f"AND application_name <> '{TEST_APP}' AND wait_event_type = 'Lock' "
            f"AND query ILIKE '%{statement}%'"
        )
    )


def gateway_sessions() -> int:
    """Sessions on the test's database opened by something other than the test."""
    return int(
        sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            f"AND application_name <> '{TEST_APP}'"
        )
    )


def terminate_gateway_sessions() -> None:
    """End what a killed gateway left running in PostgreSQL (as a failover would)."""
    sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
        f"current_database() AND application_name <> '{TEST_APP}'"
    )
    wait_until(lambda: gateway_sessions() == 0, "the killed gateway's sessions to end")


@contextmanager
def table_lock(table: str) -> Iterator[None]:
    """Hold `LOCK TABLE <table> IN ACCESS EXCLUSIVE MODE` in an open transaction (a psql
    session of its own) until the block ends: whoever writes or reads the table waits."""
    process = subprocess.Popen(
        [*PSQL, "-d", DATABASE],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PGAPPNAME": TEST_APP},
    )
    assert process.stdin is not None
    assert process.stderr is not None
    try:
        process.stdin.write(
            f"SET lock_timeout = '10s';\nBEGIN;\nLOCK TABLE {table} IN ACCESS EXCLUSIVE MODE;\n"
        )
        process.stdin.flush()
        wait_until(
            lambda: (
                process.poll() is not None
                or sql(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    f"WHERE c.relname = '{table}' AND l.mode = 'AccessExclusiveLock' AND l.granted"
                )
                == "1"
            ),
            f"the lock on {table}",
        )
        assert process.poll() is None, f"psql could not lock {table}: {process.stderr.read()}"
        yield
        process.stdin.write("COMMIT;\n")
        process.stdin.close()
        assert process.wait(timeout=10) == 0, process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        if not process.stdin.closed:
            process.stdin.close()
        process.stderr.close()


@dataclass
class SilentServer:
    """A TCP server on loopback that accepts connections, reads requests and never answers:
    an S3 endpoint that hangs."""

    port: int
    requests: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request_lines(self) -> list[str]:
        with self.lock:
            return [r.split(b"\r\n", 1)[0].decode() for r in self.requests if b"\r\n" in r]


@contextmanager
def silent_server() -> Iterator[SilentServer]:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    server = SilentServer(int(listener.getsockname()[1]))
    stop = threading.Event()
    connections: list[socket.socket] = []

    def serve() -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ)
            while not stop.is_set():
                for key, _ in selector.select(0.05):
                    sock = cast(socket.socket, key.fileobj)
                    if sock is listener:
                        connection, _ = listener.accept()
                        connection.setblocking(False)
                        connections.append(connection)
                        selector.register(connection, selectors.EVENT_READ)
                        continue
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        data = b""
                    if data:
                        with server.lock:
                            server.requests.append(data)
                    else:
                        selector.unregister(sock)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in connections:
            connection.close()
        listener.close()


# ---- the processes ---------------------------------------------------------------------


@dataclass
class Gateway:
    """A `gateway serve` process, spoken to over HTTP like an aggregator and a back office."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ussd(self, session: str, answers: list[str], phone: str = CITIZEN) -> str:
        """Africa's Talking's callback with every answer of the session so far."""
        form = {
            "sessionId": session,
            "phoneNumber": phone,
            "networkCode": "40201",
            "serviceCode": CODE,
            "text": "*".join(answers),
        }
        answer = http("POST", self.url + "/channels/ussd/africastalking", form=form, timeout=60)
        assert answer.status == 200, answer.text
        return answer.text

    def dial(self, session: str, answers: list[str], phone: str = CITIZEN) -> str:
        """Dial and give `answers` one screen at a time; the last screen."""
        screen = ""
        for count in range(len(answers) + 1):
            screen = self.ussd(session, answers[:count], phone)
            assert screen.startswith("CON ") or count == len(answers), screen
        return screen

    def admin(self, path: str) -> Any:
        answer = http(
            "GET", self.url + "/api/v1" + path, headers={"Authorization": f"Bearer {ADMIN}"}
        )
        assert answer.status == 200, answer.text
        return answer.json()

    def get(self, path: str) -> Response:
        return http("GET", self.url + path)


@dataclass
class Stack:
    """One deployment: the environment every process of a test shares."""

    env: dict[str, str]
    folder: Path
    redis_port: int
    sms: FakeProvider
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def start(self, name: str, command: list[str], **extra: str) -> subprocess.Popen[bytes]:
        log = self.folder / f"{name}-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=self.folder,  # no .env of anyone's checkout is read
                env={**self.env, **extra},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes.append(process)
        return process

    def serve(self, port: int | None = None) -> Gateway:
        """`gateway serve`, once it answers."""
        return self.ready(self.launch(port))

    def launch(self, port: int | None = None) -> Gateway:
        port = port or free_port()
        process = self.start("serve", [GATEWAY, "serve", f"--port={port}"])
        return Gateway(port, process, self.logs[-1])

    def ready(self, gateway: Gateway) -> Gateway:
        def healthy() -> bool:
            assert gateway.process.poll() is None, f"gateway exited:\n{self.tail()}"
            try:
                return gateway.get("/healthz").status == 200
            except OSError:
                return False

        wait_until(healthy, "the gateway to answer", timeout=30)
        return gateway

    def worker(self, **extra: str) -> subprocess.Popen[bytes]:
        return self.start("worker", [GATEWAY, "worker"], **extra)

    def burst(self, timeout: float = 40.0, **extra: str) -> None:
        """`gateway worker --burst`: runs until the queue is empty; must succeed."""
        process = self.start("burst", [GATEWAY, "worker", "--burst"], **extra)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill(process)
            raise AssertionError(
                f"the burst worker ran over {timeout:g} s:\n{self.tail()}"
            ) from None
        assert code == 0, f"the burst worker failed ({code}):\n{self.tail()}"

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the process group (the process and anything it started)."""
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        """SIGTERM, as an operator stops a worker; it must exit cleanly."""
        os.killpg(process.pid, signal.SIGTERM)
        try:
            code = process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill(process)
            raise AssertionError(f"no exit 15 s after SIGTERM:\n{self.tail()}") from None
        assert code == 0, f"exit code {code}:\n{self.tail()}"

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill(process)

    def redis(self) -> redis.Redis:
        return redis.Redis(port=self.redis_port)

    def queued(self) -> int:
        with self.redis() as client:
            return int(client.zcard(QUEUE))

    def finished(self, notification_id: int) -> JobResult | None:
        """The result arq keeps of a finished `notify` job, if it finished."""
        with self.redis() as client:
            raw = client.get(f"{result_key_prefix}notify:{notification_id}")
        return deserialize_result(raw) if raw is not None else None

    def job(self, notification_id: int) -> JobResult:
        result = self.finished(notification_id)
        assert result is not None, f"no result for notification {notification_id}"
        return result

    def tail(self, characters: int = 3000) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-characters:]}"
            for log in self.logs
            if log.exists()
        )


# ---- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def redis_port(tmp_path: Path) -> Iterator[int]:
    """A private redis-server (no persistence): CLIENT PAUSE stops no one else's tests."""
    with private_redis(tmp_path / "redis") as port:
        yield port


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh PostgreSQL database of this test run's own, dropped afterwards."""
    if shutil.which("psql") is None:
        pytest.fail("psql is not installed: these tests need PostgreSQL on 127.0.0.1:5432")
    drop = f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"
    sql(drop, "postgres")
    sql(f"CREATE DATABASE {DATABASE}", "postgres")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
    finally:
        sql(drop, "postgres")


@pytest.fixture(scope="module")
def census_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The shipped services, their census lookup pointed at `bench/fake_census.py`."""
    with services_on_fake_census(tmp_path_factory.mktemp("nothing-lost")) as services:
        yield services


@pytest.fixture
def stack(tmp_path: Path, redis_port: int, database: str, census_services: Path) -> Iterator[Stack]:
    env = base_env()
    with serving(FakeProvider(at_sent)) as sms:
        env.update(
            GATEWAY_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
            GATEWAY_DATABASE_URL=database,
            GATEWAY_VAR_DIR=str(tmp_path / "var"),
            GATEWAY_SERVICES_DIR=str(census_services),
            GATEWAY_USSD_CODES=json.dumps({CODE: "business-registration"}),
            GATEWAY_AT_API_KEY="atsk_nothing_lost",
            GATEWAY_AT_SMS_URL=sms.url + "/version1/messaging",
            GATEWAY_LINK_URL=LINKS,
            GATEWAY_ADMIN_TOKEN=ADMIN,
            # The Africa's Talking callbacks (USSD, SMS) are closed without a token or an
            # allow-list: the test's aggregator calls from loopback.
            GATEWAY_USSD_ALLOWED_IPS=json.dumps(["127.0.0.1"]),
            # A retried answer waits inside the gateway for the killed process's session
            # lock (up to 15 s), and every attempt to take it counts against the citizen's
            # inbound limit (30/minute by default): the first retry would be refused as
            # "sending too quickly". What is tested is that nothing is lost, not the limit.
            GATEWAY_INBOUND_PER_ADDRESS="1000/minute;10000/day",
            GATEWAY_WORKER_IN_PROCESS="false",
            GATEWAY_RELAY_SECONDS="1",
            GATEWAY_WORKER_POLL_SECONDS="0.05",
            GATEWAY_SEND_RETRY_SECONDS="0.1",
        )
        deployment = Stack(env, tmp_path, redis_port, sms)
        try:
            yield deployment
        finally:
            deployment.stop_all()


# ---- what the tests check ----------------------------------------------------------------


def registered(reference: str) -> str:
    return f"END Registered! Number {reference}."


def reference(number: int) -> str:
    return f"BR-{datetime.now(UTC).year}-{number:06d}"


def answer_until_registered(gateway: Gateway, session: str, timeout: float = 40.0) -> str:
    """The final answer again and again, as an aggregator and a citizen do, while the
    gateway says "try again" (the killed process's session lock has not expired yet)."""

    def attempt() -> str | None:
        screen = gateway.ussd(session, REGISTRATION)
        if TRY_AGAIN in screen:
            return None
        return screen

    return wait_until(attempt, "the retried final answer to be taken", timeout=timeout)


def assert_one_link_delivered(stack: Stack, gateway: Gateway, number: int = 1) -> JobResult:
    """One submission, one SMS with its link, the notification sent, the PDF served."""
    ref = reference(number)
    submissions = gateway.admin("/submissions")
    assert [s["reference"] for s in submissions] == [ref]
    sms = stack.sms.forms()
    assert len(sms) == 1, sms
    assert sms[0]["to"] == CITIZEN
    assert sms[0]["message"].startswith(f"Certificate of Business Registration {ref}:")
    found = LINK.search(sms[0]["message"])
    assert found is not None, sms[0]["message"]
    notifications = gateway.admin("/notifications")
    assert [(n["kind"], n["status"]) for n in notifications] == [("message", "sent")]
    job = stack.job(notifications[0]["id"])
    assert job.success, job.result
    token = gateway.admin(f"/submissions/{ref}")["document_token"]
    assert found.group(1) == token
    document = gateway.get(f"/d/{token}")
    assert document.status == 200
    assert document.headers["content-type"] == "application/pdf"
    assert document.body.startswith(b"%PDF")
    return job


def sent(stack: Stack) -> bool:
    """Every notification sent and nothing left queued or running."""
    return sql("SELECT count(*) FROM notifications WHERE status <> 'sent'") == "0" and (
        stack.queued() == 0
    )


# ---- 1. the gateway killed around the confirmation ---------------------------------------


def test_gateway_killed_while_storing_the_confirmation(stack: Stack) -> None:
    """SIGKILL while the submission's transaction waits inside itself (its notifications'
    INSERT blocked by a table lock): nothing is committed; started again, the retried
    final answer stores it once, and the worker sends the link once."""
    gateway = stack.serve()
    consent = gateway.dial("ATUid_kill_1", REGISTRATION[:-1])
    assert consent.startswith("CON "), consent

    with ThreadPoolExecutor(1) as pool:
        with table_lock("notifications"):
            final = pool.submit(gateway.ussd, "ATUid_kill_1", REGISTRATION)
            wait_until(lambda: lock_waiters(SUBMITTING) == 1, "the submit to block")
            stack.kill(gateway.process)
        assert final.exception(timeout=10) is not None  # the aggregator saw the connection drop

    # The killed process's transaction is rolled back by PostgreSQL: nothing was stored.
    wait_until(lambda: gateway_sessions() == 0, "the killed gateway's sessions to end")
    assert sql("SELECT count(*) FROM submissions") == "0"
    assert sql("SELECT count(*) FROM reference_counters") == "0"

    again = stack.serve(gateway.port)
    worker = stack.worker()  # starts while the dead process's session lock runs out
    screen = answer_until_registered(again, "ATUid_kill_1")
    assert screen.startswith(registered(reference(1))), screen

    wait_until(lambda: sql("SELECT count(*) FROM notifications") == "1", "the SMS owed")
    wait_until(lambda: sent(stack), "the SMS to be sent")
    stack.stop(worker)
    assert stack.job(1).job_try == 1
    assert_one_link_delivered(stack, again)
    assert sql("SELECT value FROM reference_counters") == "1"

    # Delivered again by the aggregator: the same reference, nothing new stored or owed.
    assert again.ussd("ATUid_kill_1", REGISTRATION).startswith(registered(reference(1)))
    assert len(again.admin("/submissions")) == 1
    assert stack.queued() == 0
    assert len(stack.sms.calls) == 1


def kill_after_the_commit(stack: Stack, session: str, *, numbered: bool) -> Gateway:
    """Confirm, and SIGKILL the gateway once the submission is committed while Redis
    refuses writes (CLIENT PAUSE WRITE), so its SMS is never queued; unless `numbered`,
    also before its reference is taken (the counter table locked, the numbering statement
    ended with the killed process). Checks that precise point; the gateway, restarted."""
    gateway = stack.serve()
    consent = gateway.dial(session, REGISTRATION[:-1])
    assert consent.startswith("CON "), consent

    with ThreadPoolExecutor(1) as pool, stack.redis() as client:
        with nullcontext() if numbered else table_lock("reference_counters"):
            with table_lock("notifications"):
                final = pool.submit(gateway.ussd, session, REGISTRATION)
                wait_until(lambda: lock_waiters(SUBMITTING) == 1, "the submit to block")
                client.client_pause(30_000, all=False)  # WRITE: reads go on, writes wait
            try:
                # The transaction commits; the gateway then blocks numbering or queueing.
                wait_until(lambda: sql("SELECT count(*) FROM submissions") == "1", "the commit")
                if numbered:
                    wait_until(
                        lambda: sql("SELECT reference FROM submissions").startswith("BR-"),
                        "the reference",
                    )
                else:
                    wait_until(
                        lambda: lock_waiters("reference_counters") >= 1, "the numbering to block"
                    )
                stack.kill(gateway.process)
                terminate_gateway_sessions()
            finally:
                client.client_unpause()
        assert final.exception(timeout=10) is not None  # the aggregator saw the connection drop

    stored = sql("SELECT reference FROM submissions")
    assert stored.startswith("BR-" if numbered else "~BR~"), stored
    assert sql("SELECT kind, status FROM notifications") == "message|pending"
    assert stack.queued() == 0
    return stack.serve(gateway.port)


def test_gateway_killed_after_the_commit_before_the_queue(stack: Stack) -> None:
    """Stored and numbered, its SMS not queued when the gateway died: the relay of the
    restarted gateway queues it, the worker sends the link once."""
    again = kill_after_the_commit(stack, "ATUid_kill_2", numbered=True)
    wait_until(lambda: stack.queued() == 1, "the relay to queue the SMS")
    stack.burst()
    assert assert_one_link_delivered(stack, again).job_try == 1
    assert sql("SELECT value FROM reference_counters") == "1"


def test_gateway_killed_after_the_commit_before_the_reference(stack: Stack) -> None:
    """Stored, neither numbered nor its SMS queued when the gateway died: the relay numbers
    it and queues the SMS, the worker sends the link once, and the citizen's retried final
    answer gets the same reference without a second submission."""
    again = kill_after_the_commit(stack, "ATUid_kill_3", numbered=False)
    wait_until(lambda: stack.queued() == 1, "the relay to queue the SMS")
    assert sql("SELECT reference FROM submissions") == reference(1)  # by the relay
    stack.burst()
    assert assert_one_link_delivered(stack, again).job_try == 1

    screen = answer_until_registered(again, "ATUid_kill_3")
    assert screen.startswith(registered(reference(1))), screen
    assert_one_link_delivered(stack, again)
    assert stack.queued() == 0
    assert sql("SELECT value FROM reference_counters") == "1"


# ---- 2. the worker killed while it makes the document ----------------------------------


def hanging_store(port: int) -> dict[str, str]:
    """A worker's environment for documents in an S3 bucket at `port` (a silent server)."""
    endpoint = f"http://127.0.0.1:{port}"
    return {
        "GATEWAY_DOCUMENTS_URL": f"s3://documents?endpoint={endpoint}&region=us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIANOTHINGLOST",
        "AWS_SECRET_ACCESS_KEY": "not-a-secret",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def test_worker_killed_while_making_the_document(stack: Stack) -> None:
    """The worker's document store is an S3 endpoint that never answers: SIGKILL it once
    its request for the certificate arrived. Another worker, once the dead one's claim on
    the job expired, runs the job again: the document is made, the citizen has one link."""
    with silent_server() as s3:
        hanging = stack.worker(
            **hanging_store(s3.port), GATEWAY_JOB_TIMEOUT_SECONDS=str(JOB_TIMEOUT)
        )
        gateway = stack.serve()
        screen = gateway.dial("ATUid_kill_4", REGISTRATION)
        assert screen.startswith(registered(reference(1))), screen
        key = DOCUMENT_KEY.format(reference=reference(1), id=1)
        line = wait_until(
            lambda: next((r for r in s3.request_lines() if key in r), None),
            "the worker's request for the document",
            timeout=20,
        )
        assert line.startswith("GET /documents/"), line  # inside document_bytes: store.get
        claimed = time.time()
        stack.kill(hanging)

    # Whether the link goes out before or after the document is made, the record agrees
    # with what the citizen received: no SMS and pending, or one SMS and sent.
    before = sql("SELECT status, attempts FROM notifications")
    assert (len(stack.sms.calls), before) in [(0, "pending|0"), (1, "sent|1")], before
    documents = stack.folder / "var" / "documents"
    stack.burst(GATEWAY_DOCUMENTS_URL=documents.as_uri())

    job = assert_one_link_delivered(stack, gateway)
    assert job.job_try == 2  # the killed try, then this one
    # Run again only once the dead worker's claim expired (arq: job timeout + 10 s).
    assert job.start_time.timestamp() - claimed >= JOB_TIMEOUT
    (notification,) = gateway.admin("/notifications?status=sent")
    assert notification["attempts"] == 1  # sent once, recorded once
    assert (documents / key).read_bytes().startswith(b"%PDF")  # made by the second worker


def test_a_database_failure_in_the_notify_job_does_not_lose_the_link(stack: Stack) -> None:
    """The worker loses its database connection while it reads the submission for the
    citizen's SMS (a failover: the session waiting on a table lock is terminated). The job
    is tried again (not recorded as failed: the notification stays pending, and the relay
    could queue it again even after arq gave up): once the database is back the citizen
    gets the link, once."""
    gateway = stack.serve()
    screen = gateway.dial("ATUid_db_5", REGISTRATION)
    assert screen.startswith(registered(reference(1))), screen
    wait_until(lambda: stack.queued() == 1, "the SMS to be queued")

    reading = "WHERE submissions.id = "  # the job's `by_id`, not the relay's queries
    with table_lock("submissions"):
        stack.worker()
        wait_until(lambda: lock_waiters(reading) == 1, "the job to wait for the database", 20)
        sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
            f"current_database() AND wait_event_type = 'Lock' AND query ILIKE '%{reading}%'"
        )
        wait_until(lambda: lock_waiters(reading) == 0, "the job's session to end")
        assert len(stack.sms.calls) == 0
        assert sql("SELECT status FROM notifications") == "pending"
    # The database is back: the job's next try sends the link.
    wait_until(lambda: len(stack.sms.calls) == 1, "the link once the database is back", 15)
    wait_until(lambda: stack.finished(1), "the job to end")  # it draws the PDF after the SMS
    assert_one_link_delivered(stack, gateway)


# ---- 3. two gateways, twenty citizens ------------------------------------------------------


def test_two_gateways_number_concurrent_submissions_uniquely_and_without_gaps(
    stack: Stack,
) -> None:
    """Twenty citizens, ten on each of two `gateway serve` processes sharing Redis and
    PostgreSQL, confirm at the same moment: BR-<year>-000001 to 000020, each once."""
    gateways = [stack.launch(), stack.launch()]  # both start at once
    for gateway in gateways:
        stack.ready(gateway)
    citizens = 20
    start, confirm = threading.Barrier(citizens), threading.Barrier(citizens)

    def register(n: int) -> str:
        gateway, session, phone = gateways[n % 2], f"ATUid_many_{n}", f"+9751770{n:04d}"
        answers = registration(phone)  # a CID of their own: no repeated applications
        start.wait(timeout=30)
        consent = gateway.dial(session, answers[:-1], phone)
        assert consent.startswith("CON "), consent
        confirm.wait(timeout=30)  # every final answer at the same moment
        return gateway.ussd(session, answers, phone)

    with ThreadPoolExecutor(citizens) as pool:
        futures = [pool.submit(register, n) for n in range(citizens)]
        errors = [e for f in futures if (e := f.exception(timeout=60)) is not None]
    # The first real failure, not the broken barriers it left the other citizens.
    errors.sort(key=lambda e: isinstance(e, threading.BrokenBarrierError))
    if errors:
        raise errors[0]
    screens = [f.result() for f in futures]

    found = [re.match(r"END Registered! Number (BR-\d{4}-\d{6})\.", s) for s in screens]
    assert all(found), screens
    references = sorted(m.group(1) for m in found if m)
    expected = [reference(n) for n in range(1, citizens + 1)]
    assert references == expected
    listed = gateways[0].admin("/submissions")
    assert sorted(s["reference"] for s in listed) == expected
    assert len({s["citizen"] for s in listed}) == citizens
    assert sql("SELECT value FROM reference_counters") == str(citizens)  # no number skipped
