"""JSON text for what is written on every hop: snapshots, replies, events.

orjson writes it: the standard library's `json.dumps` builds an encoder on every call
with these options, and the snapshot, the replies and the events of a USSD hop cost 6%
of its instructions that way (`bench/hop_cpu.py --callgrind`: 2.83 M → 2.66 M a hop).
The output is what `json.dumps(value, ensure_ascii=False, separators=(",", ":"),
default=str)` writes: dates, times and dataclasses go through `default=str` as they did,
and keys that are not strings become strings.

Reading stays with `json.loads`: orjson reads an integer beyond 64 bits as a float, and
a citizen may type a 30-digit number. Writing one, orjson refuses, and the standard
library writes it instead.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def dumps(value: Any) -> str:
    """`value` as compact JSON text (non-ASCII kept as it is)."""
    try:
        return orjson.dumps(value, default=str, option=_OPTIONS).decode()
    except TypeError:  # an integer beyond 64 bits
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
