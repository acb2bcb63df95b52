"""Fake providers for tests: real HTTP servers on loopback ports that record every call
and answer as the provider does (they can be told how to answer the next calls)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

Answer = tuple[int, Any]


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    form: dict[str, str]  # the body as a form (empty when it is not one)
    body: bytes = b""


@dataclass
class FakeProvider:
    """An HTTP API on a loopback port: records calls; `next` lists answers to give to the
    next calls before `answer` (the provider's normal answer) takes over."""

    answer: Callable[[Call, int], Answer]
    url: str = ""
    calls: list[Call] = field(default_factory=list)
    next: list[Answer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, call: Call) -> Answer:
        with self.lock:
            self.calls.append(call)
            if self.next:
                return self.next.pop(0)
            return self.answer(call, len(self.calls))

    def forms(self) -> list[dict[str, str]]:
        with self.lock:
            return [call.form for call in self.calls]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            forms = self.forms()
            if len(forms) >= count:
                return forms
            time.sleep(0.01)
        raise AssertionError(f"{len(self.forms())} call(s), expected {count}")


@contextmanager
def serving(fake: FakeProvider) -> Iterator[FakeProvider]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            form = "form-urlencoded" in self.headers.get("content-type", "")
            pairs = parse_qs(body.decode(), keep_blank_values=True) if form else {}
            assert all(len(values) == 1 for values in pairs.values()), pairs
            call = Call(
                "POST",
                self.path,
                {key.lower(): value for key, value in self.headers.items()},
                {key: values[0] for key, values in pairs.items()},
                body,
            )
            status, answer = fake.handle(call)
            data = answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()
            self.send_response(status)
            kind = "text/plain" if isinstance(answer, str) else "application/json"
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# Africa's Talking --------------------------------------------------------------------------


def at_recipient(number: str, code: int = 101, status: str = "Success", n: int = 1) -> Any:
    return {
        "statusCode": code,
        "number": number,
        "status": status,
        "cost": "KES 0.8000" if code in (100, 101, 102) else "0",
        "messageId": f"ATXid_{n:032x}" if code in (100, 101, 102) else "None",
    }


def at_answer(recipients: list[Any]) -> Answer:
    sent = sum(1 for r in recipients if r["statusCode"] in (100, 101, 102))
    return 201, {
        "SMSMessageData": {
            "Message": f"Sent to {sent}/{len(recipients)} Total Cost: KES 0.8000",
            "Recipients": recipients,
        }
    }


def at_sent(call: Call, n: int) -> Answer:
    return at_answer([at_recipient(call.form["to"], n=n)])
