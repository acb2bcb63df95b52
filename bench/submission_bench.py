"""Submission benchmark (`make bench`): from the confirm answer to the link at the SMS API.

Citizens register a business over USSD (`POST /channels/ussd/africastalking`, 9 hops
each) against `gateway serve` and a separate `gateway worker`, on a redis-server of the
bench's own (the machine's Redis may be someone else's: nothing of it is flushed) and
PostgreSQL (SQLite when no PostgreSQL answers), with the census and Africa's Talking's
messaging API faked on loopback. Each citizen has a number and a CID of their own, which
the census confirms: the instant path, certificate and SMS, with production settings
but the outbound budgets (see `main`). For every citizen, the time from sending the final
answer (the consent that submits) to the moment the worker hands the certificate link to
the SMS API: median and p99, with the offered load of the other citizens' hops going on.
Also the PDF generation time per document (Latin and Dzongkha), in this process.
Targets (issue 5): median under 1 s, p99 under 5 s. `BENCH_CITIZENS` (default 300)
citizens per load: `BENCH_CITIZENS=20` is a quick run.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from bench import at_messaging, fake_census
from bench.servers import (
    BIN,
    ROOT,
    bench_database,
    free_port,
    open_to_loopback,
    services_copy,
    start_redis,
)
from bench.ussd_rate import HOPS, answers, mobile, read_reply, request_bytes
from gateway.documents import render_certificate

CITIZENS = int(os.environ.get("BENCH_CITIZENS", "300"))
# Citizens dialling at once: 10 makes about 5 submissions a second (Bhutan registers
# 5,500 businesses a year), 60 about 30 a second, more PDFs than 2 cores can draw.
LOADS = (10, 60)
THINK = 0.2  # seconds a citizen takes to answer a screen
CODE = "*384*1#"
LINK = re.compile(r"/d/[A-Za-z0-9_-]{22}")


class SmsApi:
    """Africa's Talking's messaging API on loopback: when each citizen's link arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                if LINK.search(form.get("message", "")):
                    with api.lock:
                        api.arrived.setdefault(form["to"], time.monotonic())
                answer = at_messaging.sent(form.get("to", ""), f"ATXid_{len(api.arrived)}")
                data = json.dumps(answer).encode()
                self.send_response(201)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = at_messaging.url(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True).start()


async def citizen(port: int, serial: int, confirmed: dict[str, float]) -> None:
    number = mobile(0, serial)  # a number and a CID of their own: no repeated applications
    script = answers(number)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for hop in range(HOPS):
            text = "*".join(script[:hop])
            body = (
                f"sessionId=SUB{serial}&phoneNumber={quote(number)}&networkCode=40201"
                f"&serviceCode={quote(CODE)}&text={quote(text)}"
            ).encode()
            if hop == HOPS - 1:  # confirms: submits
                confirmed[number] = time.monotonic()
            writer.write(request_bytes("127.0.0.1", port, "/channels/ussd/africastalking", body))
            status, reply = await read_reply(reader)
            if status != 200 or (hop == HOPS - 1 and b"Registered" not in reply):
                raise RuntimeError(f"hop {hop} of {number}: {status} {reply[:120]!r}")
            await asyncio.sleep(THINK)
    finally:
        writer.close()


async def drive(port: int, confirmed: dict[str, float], concurrent: int, first: int) -> None:
    gate = asyncio.Semaphore(concurrent)

    async def one(serial: int) -> None:
        async with gate:
            await citizen(port, serial, confirmed)

    await asyncio.gather(*(one(serial) for serial in range(first, first + CITIZENS)))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def pdf_times() -> dict[str, float]:
    """Certificates drawn in Latin and in Dzongkha: printed, and each median in ms."""
    latin = {
        "title": "Certificate of Business Registration",
        "issuer": "Ministry of Industry, Commerce and Employment",
        "holder": "Pema Wangmo",
        "fields": [
            {"label": "Business name", "value": "Pema Tshering Shop"},
            {"label": "Type", "value": "Cottage"},
            {"label": "Dzongkhag", "value": "Thimphu"},
        ],
    }
    dzongkha = {
        "title": "ཚོང་ལས་ཐོ་བཀོད་ལག་ཁྱེར",
        "issuer": "བཟོ་གྲྭ་ཚོང་འབྲེལ་དང་ལཱ་གཡོག་ལྷན་ཁག",
        "holder": "པདྨ་དབང་མོ",
        "fields": [{"label": "ཚོང་ཁང་གི་མིང", "value": "པདྨ་ཚོང་ཁང"}],
    }
    medians = {}
    for name, document in (("Latin", latin), ("Dzongkha", dzongkha)):
        times, size = [], 0
        for n in range(50):
            start = time.perf_counter()
            data = render_certificate(
                document,
                reference=f"BR-2026-{n:06d}",
                issued_at=datetime(2026, 11, 28, 9, 30, tzinfo=UTC),
                verify_url=f"https://gw.gov.bt/verify/BR-2026-{n:06d}",
            )
            times.append((time.perf_counter() - start) * 1000)
            size = len(data)
        print(
            f"PDF {name:8s}: median {statistics.median(times):6.1f} ms, "
            f"p99 {percentile(times, 0.99):6.1f} ms, {size / 1024:.1f} KB"
        )
        medians[name] = statistics.median(times)
    return medians


def main() -> int:
    pdf_times()
    folder = Path(tempfile.mkdtemp(prefix="submission-bench-"))
    redis, redis_port = start_redis()
    census_port = free_port()
    census = fake_census.spawn(census_port)
    sms = SmsApi()
    port = free_port()
    env = {
        **os.environ,
        "GATEWAY_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "GATEWAY_DATABASE_URL": bench_database(folder),
        "GATEWAY_SERVICES_DIR": str(services_copy(folder, census_port)),
        "GATEWAY_VAR_DIR": str(folder / "var"),
        "GATEWAY_USSD_CODES": json.dumps({CODE: "business-registration"}),
        "GATEWAY_WORKER_IN_PROCESS": "false",
        "GATEWAY_AT_SMS_URL": sms.url,
        "GATEWAY_LINK_URL": "https://gw.gov.bt",
        "GATEWAY_WORKER_POLL_SECONDS": "0.05",
        **at_messaging.SENDING,  # one SMS a number; the budgets per range and in all raised
    }
    env.pop("GATEWAY_DOCUMENTS_URL", None)
    open_to_loopback(env)
    log = (folder / "processes.log").open("wb")
    server = subprocess.Popen(
        [str(BIN / "gateway"), "serve", f"--port={port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                import urllib.request

                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        worker = subprocess.Popen(
            [str(BIN / "gateway"), "worker"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for run, concurrent in enumerate(LOADS):
            confirmed: dict[str, float] = {}
            started = time.monotonic()
            asyncio.run(drive(port, confirmed, concurrent, run * CITIZENS))
            driven = time.monotonic() - started
            deadline = time.monotonic() + 90
            while not set(confirmed) <= set(sms.arrived) and time.monotonic() < deadline:
                time.sleep(0.05)
            latencies = [sms.arrived[n] - t for n, t in confirmed.items() if n in sms.arrived]
            missing = len(confirmed) - len(latencies)
            hops = CITIZENS * HOPS
            print(
                f"{CITIZENS} citizens, {concurrent} at once: {CITIZENS / driven:.1f} "
                f"submissions/s, {hops / driven:.0f} hops/s; confirm answer -> link at the "
                f"SMS API: median {statistics.median(latencies):.3f} s, p99 "
                f"{percentile(latencies, 0.99):.3f} s; {missing} missing"
            )
        print(
            f"database {env['GATEWAY_DATABASE_URL'].split(':')[0]}; targets: median < 1 s, "
            "p99 < 5 s"
        )
    finally:
        for process in (worker, server, census, redis):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        sms.server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
