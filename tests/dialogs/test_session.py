"""The conversation snapshot: plain JSON, immutable, small."""

from __future__ import annotations

import json

from dialogs.session import AtMenu, ChoosingField, Snapshot


def _snapshot() -> Snapshot:
    return Snapshot(
        id="conv-1",
        lang="dz",
        service="business-registration",
        version=3,
        step="location",
        answers={"cid": "11512000123", "citizen": {"name": "པདྨ"}, "consent": True, "n": 3},
        trail=("cid", "citizen", "business_name"),
        page=1,
        state=ChoosingField(),
        return_to="review",
        submission={"reference": "BR-1", "status": "issued", "link": None},
        invalid=2,
        ended=False,
        started="2026-01-15T09:30:00",
    )


def test_defaults() -> None:
    snapshot = Snapshot(id="x")
    assert snapshot.lang == "en"
    assert snapshot.service is None
    assert snapshot.version == 0
    assert snapshot.step == ""
    assert snapshot.answers == {}
    assert snapshot.trail == ()
    assert (snapshot.page, snapshot.invalid, snapshot.ended) == (0, 0, False)
    assert snapshot.state == AtMenu()


def test_json_round_trip() -> None:
    snapshot = _snapshot()
    text = snapshot.to_json()
    assert Snapshot.from_json(text) == snapshot
    assert Snapshot.from_json(text.encode()) == snapshot
    assert isinstance(Snapshot.from_json(text).trail, tuple)


def test_json_is_compact_plain_utf8() -> None:
    text = _snapshot().to_json()
    assert ": " not in text
    assert ", " not in text
    assert "པདྨ" in text  # not \u escapes: a third of the bytes
    data = json.loads(text)
    assert data["trail"] == ["cid", "citizen", "business_name"]
    assert data["answers"]["consent"] is True


def test_json_leaves_out_what_is_at_its_default() -> None:
    """Read back with the defaults filled in: a new conversation's snapshot is its id,
    and a default answer value inside `answers` is kept (only fields are left out)."""
    fresh = Snapshot(id="conv-2")
    assert json.loads(fresh.to_json()) == {"id": "conv-2"}
    assert Snapshot.from_json(fresh.to_json()) == fresh
    asked = Snapshot(id="conv-3", service="permit", step="floors", answers={"n": 0, "s": ""})
    assert set(json.loads(asked.to_json())) == {"id", "service", "step", "answers"}
    assert Snapshot.from_json(asked.to_json()) == asked
    assert Snapshot.from_json(asked.to_json()).answers == {"n": 0, "s": ""}


def test_evolve_returns_a_changed_copy() -> None:
    snapshot = _snapshot()
    changed = snapshot.evolve(step="contact_phone", page=0)
    assert (changed.step, changed.page) == ("contact_phone", 0)
    assert (snapshot.step, snapshot.page) == ("location", 1)
    assert changed.answers == snapshot.answers
    assert changed.evolve() == changed
    assert changed != snapshot
