"""What the Rasa peer bench counts as the server's fault (its errors), and how it drives
each target."""

from __future__ import annotations

import sys
from pathlib import Path

from bench.peer_bench import TOLERATED, Clients, Run, failed


def run(messages: int, errors: int) -> Run:
    return Run(
        target="gw-ussd",
        round=1,
        msg_per_s=messages / 10,
        conv_per_s=messages / 90,
        p50_ms=40.0,
        p99_ms=90.0,
        cpu_ms=0.8,
        loadgen_cpu_ms=0.5,
        messages=messages,
        errors=errors,
    )


def test_a_few_errors_in_many_messages_are_the_clients_number_collisions() -> None:
    assert TOLERATED == 1 / 1000
    assert failed([run(12_800, 0), run(12_800, 2), run(12_800, 12)]) == []


def test_more_errors_than_collisions_explain_fail_the_run() -> None:
    many = run(12_800, 13)
    assert failed([run(12_800, 2), many]) == [many]


def test_a_short_run_tolerates_no_error_it_cannot_explain() -> None:
    assert failed([run(500, 1)]) == [run(500, 1)]


def test_the_web_chat_is_driven_by_loadgen_through_web_peer_and_the_rest_by_loadgen() -> None:
    clients = Clients(Path("/peer"), sms_port=4321)
    web = clients.command("verify", "gw-web", "http://127.0.0.1:8000")
    assert web == [
        sys.executable,
        "-m",
        "bench.web_peer",
        "--peer=/peer",
        "--sms-port=4321",
        "verify",
        "--url=http://127.0.0.1:8000",
    ]
    ussd = clients.command("load", "gw-ussd", "http://127.0.0.1:8000")
    assert ussd[1:] == [
        "/peer/loadgen.py",
        "load",
        "--target=gw-ussd",
        "--url=http://127.0.0.1:8000",
    ]
