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
_NUMBERS = re.compile(
    r"""
    # Numbers that are not a citizen's, kept as they are: references (BR-2026-1000000),
    # dates (17-08-2026, 2026-08-17) and UUIDs, whose digit runs would look like one.
    (?P<keep>
        [A-Z]{1,8}-\d{4}-\d{6,}
        | (?<!\d)\d{1,2}[-/.]\d{1,2}[-/.]\d{4}(?!\d)
        | (?<!\d)\d{4}-\d{2}-\d{2}(?!\d)
        | [0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}
    )
    # +975 17 12 34 56, +14155550123, +1 (415) 555-0123, +44.20.7946.0958
    | (?P<e164>\+[ ]?\(?\d(?:(?:[ .-]|[ ]?[()][ ]?)?\d){6,14})(?!\d)
    # Citizens type spaces or dashes inside a number (the national_id and phone steps
    # accept them): `115 0100 1234`, `17-12-34-56`.
    | (?<!\d)(?P<cid>\d(?:[ -]?\d){10})(?!\d)  # citizenship ID (also 975... without +)
    | (?<!\d)(?P<mobile>(?:1[67]|[78]7)(?:[ -]?\d){6})(?!\d)  # Bhutanese mobile (BT pattern)
    """,
    re.VERBOSE,
)
_BHUTAN = "975"


def _mask_number(match: re.Match[str]) -> str:
    e164 = match.group("e164")
    if match.group("keep") is not None:
        return match.group(0)
    digits = re.sub(r"\D", "", match.group(0))
    if e164 is None:
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


def _has_digits(text: str) -> bool:
    # Most strings in a log event (levels, logger names, words) have no digit: skip the
    # regular expression for them.
    return any(c.isdigit() for c in text)


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
