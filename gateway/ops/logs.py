"""Logging: structlog, JSON lines on stderr, citizens' numbers masked.

`configure_logging()` is the one configuration, called when the app starts and when the
worker starts. Everything goes one way: structlog loggers hand their events to the
standard library, whose root handler (ours) renders every record, the gateway's
`logging.getLogger(__name__)` ones, uvicorn's and the libraries', through the same
processors: JSON lines, or readable columns when stderr is a terminal.

Logs leave the country's systems (a log service, a ticket, a screenshot), so the last
processor before rendering masks phone numbers (E.164, Bhutanese 8-digit mobiles, with
`whatsapp:` or `tel:` before them) and citizenship ID numbers (11 digits) in every string
of the event, nested ones and tracebacks included, keeping the last 3 digits (and
Bhutan's country code) so that an operator can still tell two citizens apart:
`+97517123456` -> `+975*****456`, `17123456` -> `*****456`, `11501001234` -> `********234`.

Numbers are masked however citizens and systems write them: grouped with spaces, dashes
or dots, mixed (`17 12-34.56`, `115.0100.1234`), with `+` or the `00` international prefix.
Bhutan's code stays visible only when a prefix says a country code follows: `+975...` and
`00975...` both become `+975*****456` (the masked form writes `+` whichever prefix was
typed), another country's code is masked too (`0014155550123` -> `+********123`, as
`+14155550123`). Without a prefix, `975` is masked with the rest:
`97517123456`, `975 17 12 34 56` and `975.17.12.34.56` become `********456`, because 11
digits may as well be an ID (the ID step takes any 11 digits; a Polish PESEL of someone
born in May 1997 starts with 975), and an ID keeps only its last 3 digits.

What only looks like one is kept: references (`BR-2026-1000000`), dates and times, UUIDs,
IP addresses, versions and decimals (`1712.3456`, a single dot being a decimal point). An
address written as four pairs, `17.12.34.56`, is how a mobile is dotted: masked.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any

import structlog
from structlog.typing import EventDict, Processor

KEEP = 3  # digits left at the end of a masked number
HANDLER_NAME = "gateway"  # our root handler, replaced (never doubled) when called again
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")

# One pass over a string finds every kind. Digit look-arounds rather than \b: a
# number is often glued to letters or punctuation (`gw:{+97517123456}:lock`, `CID11501001234`).
# A number without a + starts neither inside a run of digits nor right after `<digit>.`,
# and does not end before `.<digit>`: that is part of a decimal, an address or a version
# (`0.17123456`, `17.12.34.56.78`).
_NUMBERS = re.compile(
    r"""
    # Where a match may start: a +, the first digit of a run, the head of a UUID. Tested
    # first, and a character class first of all, so that most characters of a line
    # (letters, spaces, the digits inside a run) are turned down at once instead of by
    # every alternative below: masking is part of every log line's cost.
    (?=[\d+A-Fa-f])(?=\+|(?<!\d)(?<!\d\.)\d|[0-9A-Fa-f]{8}-)
    (?:
    # Numbers that are not a citizen's, kept as they are: references (BR-2026-1000000,
    # from their digits on), dates (17-08-2026, 17.08.2026, 2026-08-17, an ISO time with
    # it), times (10:00: its 00 would start `10:00 975 17 12 34 56`), UUIDs and IP
    # addresses (192.168.77.123, 172.17.0.12), whose digit runs would look like one.
    # Only what can be one: a day, a month, a year of 19xx or 20xx and one separator
    # (1712-34-56, 17-12-3456 and 16-09.2082 are mobiles); parts of an address below 300
    # (975.17.12.34 is not one). Four pairs (17.12.34.56) are not an address here: that
    # is how a mobile is dotted, and masking one address too many is the safe side.
    (?P<keep>
        (?<=[A-Z]-)\d{4}-\d{6,}
        | (?<!\d)(?:0?[1-9]|[12]\d|3[01]) (?P<sep>[-/.]) (?:0?[1-9]|1[0-2]) (?P=sep)
          (?:19|20)\d\d(?!\d)
        | (?<!\d)(?:19|20)\d\d-[01]\d-[0-3]\d(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?)?(?!\d)
        | (?<!\d)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?!\d)
        | [0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}
        | (?<!\d)(?!\d\d\.\d\d\.\d\d\.\d\d(?!\d))[12]?\d?\d(?:\.[12]?\d?\d){3}(?!\.?\d)
    )
    # +975 17 12 34 56, +14155550123, +1 (415) 555-0123, +44.20.7946.0958
    | (?P<e164>\+[ ]?\(?\d(?:(?:[ .-]|[ ]?[()][ ]?)?\d){6,14})(?!\d)
    # The same after 00, the international prefix dialled instead of +: 0097517123456,
    # 00 975 17123456. A country code never starts with 0; and 9 digits at least after
    # 00 (11 in all, as many as an ID): a shorter run is more likely a zero-padded count.
    | (?<!\d)(?<!\d\.)00[ -]?(?P<intl>\(?[1-9](?:(?:[ .-]|[ ]?[()][ ]?)?\d){8,14})(?!\d)
    # Citizens type spaces, dashes or dots inside a number, mixed too (the national_id and
    # phone steps accept them): `115 0100 1234`, `17-12-34-56`, `17 12-34.56`. A dot only
    # between groups of two digits or more (17.12.34.56, 115.0100.1234): next to a single
    # digit it is a version or an address (3.11.7, 124.0.6367.207, 10.0.17.12). A single
    # dot and no other separator is a decimal point (1712.3456, 17123456.50): kept.
    | (?<!\d)(?<!\d\.)(?!\d+\.\d+(?![ .-]?\d))
      (?:
        (?P<cid>\d(?:GAP\d){10})  # citizenship ID (also 975... without a prefix)
        | (?P<mobile>(?:1[67]|[78]7)(?:GAP\d){6})  # Bhutanese mobile (BT pattern)
      )
      (?!\.?\d)
    )
    """.replace("GAP", r"(?:[ -]|(?<=\d\d)\.(?=\d\d))?"),  # what may come between two digits
    re.VERBOSE,
)
_BHUTAN = "975"


def _mask_number(match: re.Match[str]) -> str:
    if match.group("keep") is not None:
        return match.group(0)
    # After + or 00 (`intl` leaves its 00 out) the digits start with a country code.
    international = match.group("e164") or match.group("intl")
    digits = re.sub(r"\D", "", international or match.group(0))
    if international is None:
        return "*" * (len(digits) - KEEP) + digits[-KEEP:]
    kept = _BHUTAN if digits.startswith(_BHUTAN) else ""
    return "+" + kept + "*" * (len(digits) - len(kept) - KEEP) + digits[-KEEP:]


def mask_text(text: str) -> str:
    """`text` with every phone and citizenship ID number masked."""
    return _NUMBERS.sub(_mask_number, text)


def mask(value: Any) -> Any:
    """`value` with numbers masked in every string inside it (dict keys too); other
    values (ints, None...) as they are. An int is left alone: a count or an id, not a
    number a citizen typed (those arrive as text)."""
    if isinstance(value, str):
        return mask_text(value) if _has_digits(value) else value
    if isinstance(value, Mapping):
        return {mask(k): mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(mask(item) for item in value)
    return value


_DIGIT = re.compile(r"\d")


def _has_digits(text: str) -> bool:
    # Most strings in a log event (levels, logger names, words) have no digit: skip the
    # regular expression for them. A search in C, 2 to 4 times quicker than a loop over
    # the characters; and `\d` is what a number above starts with.
    return _DIGIT.search(text) is not None


def mask_numbers(logger: Any, method: str, event: EventDict) -> EventDict:
    """structlog processor: see `mask`."""
    for key, value in event.items():
        event[key] = mask(value)
    return event


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record comes: a test runner or a CLI
    runner that swaps it for a while must not leave us writing to its closed stream."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def _renderer(json: bool) -> Processor:
    if json:
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())


def configure_logging(level: int | str = logging.INFO, *, json: bool | None = None) -> None:
    """Route all logging through structlog to stderr: JSON lines, or console columns when
    stderr is a terminal (`json` decides instead when given). Safe to call again (a
    second call replaces the first's handler)."""
    if json is None:
        json = not sys.stderr.isatty()
    # Both structlog's own events and stdlib records go through these before the final
    # processors below; a stdlib record's message is already formatted with its args.
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.StackInfoRenderer(),
            # Tracebacks become text before masking: a number in an exception's message
            # or a local's repr is masked like any other.
            structlog.processors.format_exc_info,
            mask_numbers,
            _renderer(json),
        ],
    )
    handler = _StderrHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter)
    handler.setLevel(level)
    root = logging.getLogger()
    # Other handlers (pytest's capture, an operator's) stay; only ours is replaced.
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    # Lowered, never raised: a level chosen before (a test's caplog) keeps its records.
    wanted = logging.getLevelNamesMapping()[level.upper()] if isinstance(level, str) else level
    if root.level == logging.NOTSET or root.level > wanted:
        root.setLevel(wanted)
    # Alembic announces its context and every migration at each start: noise, once the
    # schema is current; its warnings and errors still come through.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # uvicorn installs its own handlers (plain text, unmasked) before it loads the app:
    # its records go to the root handler instead. A logger uvicorn switched off (the
    # access log without `--access-log`: no handlers, not propagating) stays off; turned
    # back on, it wrote a JSON line for every USSD hop, about 7% of the hop's CPU.
    for name in UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        switched_off = not uvicorn_logger.handlers and not uvicorn_logger.propagate
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = not switched_off
