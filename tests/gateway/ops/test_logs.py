"""Structured logs: JSON lines on stderr, every path through one configuration, phone and
citizenship ID numbers masked wherever they appear."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
import structlog
import uvicorn

from gateway.documents.drawers import RENDER_NICENESS, start_drawer
from gateway.ops.logs import HANDLER_NAME, UVICORN_LOGGERS, configure_logging, mask, mask_text


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Leave logging as the test found it (other tests' caplog relies on it)."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    uvicorn = {name: logging.getLogger(name) for name in UVICORN_LOGGERS}
    saved = {name: (lg.handlers[:], lg.propagate) for name, lg in uvicorn.items()}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, (old, propagate) in saved.items():
        uvicorn[name].handlers[:] = old
        uvicorn[name].propagate = propagate
    structlog.reset_defaults()


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("+97517123456", "+975*****456"),
        ("whatsapp:+97517123456", "whatsapp:+975*****456"),
        ("tel:+97577123456", "tel:+975*****456"),
        ("tel:17123456", "tel:*****456"),
        ("sms from 77123456 and 16123456", "sms from *****456 and *****456"),
        ("+975 17 12 34 56", "+975*****456"),
        ("+14155550123", "+********123"),  # other countries: the country code goes too
        ("+1 (415) 555-0123", "+********123"),  # as people write them abroad
        ("+44.20.7946.0958", "+*********958"),
        ("+(975) 17-12-34-56", "+975*****456"),
        ("+91 98765 43210 called", "+*********210 called"),
        ("CID 11501001234.", "CID ********234."),
        ("97517123456", "********456"),  # Meta's recipient_id, without the +
        ("CID 115 0100 1234 given", "CID ********234 given"),  # as citizens type them
        ("cid 115-01-00-1234", "cid ********234"),
        ("call 17 12 34 56 or 77-123-456", "call *****456 or *****456"),
        ("11501001234 17123456", "********234 *****456"),
        ("gw:{+97517123456}:lock", "gw:{+975*****456}:lock"),
        ("/api/v1/messages?address=%2B97517123456", "/api/v1/messages?address=%2B********456"),
        # Dots between groups, and mixed separators, as citizens type them.
        ("17.12.34.56", "*****456"),
        ("+975.17.12.34.56", "+975*****456"),
        ("975.17.12.34.56", "********456"),  # no prefix: 975 is masked, as in 97517123456
        ("CID 115.0100.1234", "CID ********234"),
        ("115.01.00-1234", "********234"),
        ("17 12-34.56", "*****456"),
        ("17.12 34 56", "*****456"),  # a dot, then more: no decimal point
        ("1712-34-56", "*****456"),  # no date: month 34, year 1712
        ("17-12-3456", "*****456"),  # no date: year 3456
        ("Mob.17123456", "Mob.*****456"),  # a dot after a word is no decimal point
        ("77.88.55.66", "*****566"),  # an address written as a dotted mobile: masked
        # The country code without a +: masked with the rest, 11 digits may be an ID.
        ("975 17 12 34 56", "********456"),
        ("975 17123456", "********456"),
        # The 00 international prefix: as with +, which the masked form writes.
        ("0097517123456", "+975*****456"),
        ("00975 17 12 34 56", "+975*****456"),
        ("00 975 17123456", "+975*****456"),
        ("00-975-17-12-34-56", "+975*****456"),
        ("tel:0097517123456", "tel:+975*****456"),
        ("0014155550123", "+********123"),  # other countries: the country code goes too
        ("0044 20 7946 0958", "+*********958"),
        ("at 10:00 975 17 12 34 56", "at 10:00 ********456"),  # a time's 00: no prefix
        # Not numbers of a citizen: left alone.
        ("BR-2026-000123", "BR-2026-000123"),
        ("BR-2026-1000000", "BR-2026-1000000"),  # a reference past 999,999
        ("date 17-08-2026 and 2026-08-17", "date 17-08-2026 and 2026-08-17"),
        ("job 5e8c1a2f-1712-4345-8123-4567890abcde", "job 5e8c1a2f-1712-4345-8123-4567890abcde"),
        ("ID-11501001234", "ID-********234"),
        ("171 2345 6789", "********789"),  # a CID, never half of it as a mobile
        ("2026-01-15T10:00:00.123456Z", "2026-01-15T10:00:00.123456Z"),
        ("took 12345678 ns", "took 12345678 ns"),  # 8 digits, not a Bhutanese mobile prefix
        ("id 123456789012", "id 123456789012"),  # 12 digits: neither a CID nor a mobile
        ("on 17.08.2026", "on 17.08.2026"),  # a dotted date
        ("2026-01-15 10:00:00,123", "2026-01-15 10:00:00,123"),  # the stdlib's asctime
        ("2026-01-15T10:00:00.17123456Z", "2026-01-15T10:00:00.17123456Z"),
        ("from 10.0.17.12 and 192.168.77.123", "from 10.0.17.12 and 192.168.77.123"),
        ("172.17.0.12", "172.17.0.12"),  # a Docker address: 8 digits from 17
        ("redis 127.0.0.1:6379", "redis 127.0.0.1:6379"),
        ("python 3.11.7, gateway 1.2.3", "python 3.11.7, gateway 1.2.3"),
        ("Chrome/124.0.6367.207", "Chrome/124.0.6367.207"),  # 11 digits, single-digit part
        ("Nu. 1712.3456 paid", "Nu. 1712.3456 paid"),  # a single dot: a decimal point
        ("total 17123456.50", "total 17123456.50"),
        ("ratio 0.17123456", "ratio 0.17123456"),  # a fraction
        ("975.17123456", "975.17123456"),  # a decimal too, 975 or not
        ("17.12.34.56.78", "17.12.34.56.78"),  # five pairs: no phone
        ("count 0012345678", "count 0012345678"),  # 00 and 8 digits: a zero-padded count
    ],
)
def test_numbers_are_masked_keeping_the_last_three_digits(text: str, masked: str) -> None:
    assert mask_text(text) == masked


def test_nested_values_are_masked_and_other_types_kept() -> None:
    value = {
        "citizen": "+97517123456",
        "answers": {"cid": "11501001234", "mobile": ["17123456", ("tel:77123456",)]},
        "+97517999999": 3,
        "count": 17123456,  # an int is a count, not something a citizen typed
        "none": None,
    }
    assert mask(value) == {
        "citizen": "+975*****456",
        "answers": {"cid": "********234", "mobile": ["*****456", ("tel:*****456",)]},
        "+975*****999": 3,
        "count": 17123456,
        "none": None,
    }


def lines(err: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_stdlib_records_become_masked_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=True)
    logging.getLogger("gateway.conversations.service").warning(
        "lock lost for %s", "+97517123456", extra={"answers": {"cid": "11501001234"}}
    )
    logging.getLogger("gateway.conversations.service").debug("below the level: not written")
    (line,) = lines(capsys.readouterr().err)
    assert line["event"] == "lock lost for +975*****456"
    assert line["level"] == "warning"
    assert line["logger"] == "gateway.conversations.service"
    assert line["timestamp"].endswith("Z")
    assert line["answers"] == {"cid": "********234"}


def test_structlog_events_and_tracebacks_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=True)
    log = structlog.get_logger("gateway.delivery.worker")
    log.info("sent", to="whatsapp:+97517123456", parts=[{"to": "tel:17123456"}], tries=2)
    try:
        raise ValueError("no census record for 11501001234")
    except ValueError:
        logging.getLogger("gateway.conversations.lookups").exception(
            "lookup failed for %s", "17123456"
        )
    sent, failed = lines(capsys.readouterr().err)
    assert sent["event"] == "sent"
    assert sent["to"] == "whatsapp:+975*****456"
    assert sent["parts"] == [{"to": "tel:*****456"}]
    assert sent["tries"] == 2
    assert failed["event"] == "lookup failed for *****456"
    assert "ValueError: no census record for ********234" in failed["exception"]
    assert "11501001234" not in json.dumps(failed)


def test_uvicorn_logs_go_through_the_same_handler(capsys: pytest.CaptureFixture[str]) -> None:
    access = logging.getLogger("uvicorn.access")
    access.addHandler(logging.StreamHandler())  # as uvicorn's own configuration leaves it
    access.propagate = False
    configure_logging(json=True)
    access.setLevel(logging.INFO)
    access.info(
        '%s - "%s %s HTTP/%s" %d',
        "10.0.0.7:51234",
        "GET",
        "/api/v1/messages?address=%2B97517123456",
        "1.1",
        200,
    )
    (line,) = lines(capsys.readouterr().err)
    assert line["logger"] == "uvicorn.access"
    assert (
        line["event"]
        == '10.0.0.7:51234 - "GET /api/v1/messages?address=%2B********456 HTTP/1.1" 200'
    )


def test_an_access_log_uvicorn_switched_off_stays_off(capsys: pytest.CaptureFixture[str]) -> None:
    uvicorn.Config("gateway.app:create_app", access_log=False).configure_logging()
    configure_logging(json=True)
    configure_logging(json=True)
    access = logging.getLogger("uvicorn.access")
    # What uvicorn's HTTP protocol asks before it logs each request.
    assert access.hasHandlers() is False
    access.info("GET /channels/ussd/africastalking 200")
    assert capsys.readouterr().err == ""
    logging.getLogger("uvicorn.error").info("Application startup complete.")
    assert lines(capsys.readouterr().err)[0]["logger"] == "uvicorn.error"


def test_configuring_twice_keeps_one_handler(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=True)
    configure_logging(json=True)
    ours = [h for h in logging.getLogger().handlers if h.get_name() == HANDLER_NAME]
    assert len(ours) == 1
    logging.getLogger("gateway").warning("once")
    assert len(lines(capsys.readouterr().err)) == 1


def test_a_level_set_lower_before_is_kept() -> None:
    logging.getLogger().setLevel(logging.DEBUG)
    configure_logging("INFO", json=True)
    assert logging.getLogger().level == logging.DEBUG
    logging.getLogger().setLevel(logging.WARNING)
    configure_logging("INFO", json=True)
    assert logging.getLogger().level == logging.INFO


def test_console_rendering_is_masked_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=False)
    logging.getLogger("gateway").warning("citizen %s", "+97517123456")
    err = capsys.readouterr().err
    assert "citizen +975*****456" in err
    assert not err.lstrip().startswith("{")


def test_stderr_is_json_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging()  # pytest's captured stderr is not a terminal
    logging.getLogger("gateway").warning("hello")
    assert lines(capsys.readouterr().err)[0]["event"] == "hello"


def log_while_drawing() -> int:
    """Run in a PDF-drawing process: log a citizen's number; the process's niceness."""
    logging.getLogger("gateway.documents").warning("drawing the certificate of +97517123456")
    return os.nice(0)


def test_pdf_drawing_processes_log_masked_json_and_yield_the_cpu(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The worker's drawers are spawned: they inherit neither its logging nor its
    niceness, so `start_drawer` sets both."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn, initializer=start_drawer) as drawers:
        niceness = drawers.submit(log_while_drawing).result(timeout=60)
    assert niceness == min(os.nice(0) + RENDER_NICENESS, 19)
    err = capfd.readouterr().err
    assert "17123456" not in err
    (line,) = [json.loads(x) for x in err.splitlines() if "drawing the certificate" in x]
    assert line["event"] == "drawing the certificate of +975*****456"
    assert line["logger"] == "gateway.documents"
