"""JSON text written on every hop: what the standard library wrote, faster."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs import json_text
from dialogs.session import Snapshot


def standard(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


@dataclass
class Point:
    x: int


@pytest.mark.parametrize(
    "value",
    [
        {"name": "Pema Wangmo", "dzongkhag": "ཐིམ་ཕུ་", "trail": ("a", "b"), "n": 3, "f": 2.5},
        {"at": datetime(2026, 3, 1, 10, 0, 5, 123, tzinfo=UTC), "on": date(2026, 3, 1)},
        {"amount": Decimal("12.50"), "point": Point(1), "tags": None, "ok": True},
        {1: "integer keys become strings", "nested": [{"a": []}, {}]},
        {"big": 10**29, "also": "a 30-digit number a citizen typed"},  # beyond 64 bits
        ["emoji 😀", 'quote " and backslash \\ and\nnewline', "\u2028"],
    ],
)
def test_the_same_text_as_the_standard_library(value: Any) -> None:
    assert json_text.dumps(value) == standard(value)


def test_a_big_integer_survives_the_round_trip() -> None:
    assert json.loads(json_text.dumps({"n": 10**29}))["n"] == 10**29


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_any_json_value_reads_back_the_same(value: Any) -> None:
    assert json.loads(json_text.dumps(value)) == value


def test_a_snapshot_round_trips() -> None:
    snapshot = Snapshot(
        id="c0ffee", service="business-registration", version=2, step="name", lang="dz"
    )
    snapshot = snapshot.evolve(answers={"name": "Pema Store", "count": 10**20}, trail=("cid",))
    assert Snapshot.from_json(snapshot.to_json()) == snapshot
