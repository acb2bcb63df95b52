"""Options drawn by the providers that can show them: Meta's reply buttons and lists,
Telegram's inline keyboard, the web chat's quick replies. Each shows every option, within
the medium's limits (`dialogs.media`); the text under them is the renderer's
(tests/dialogs/test_render.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.media import WHATSAPP_CHOICES
from dialogs.messages import Reply, ReplyOption
from gateway.providers.base import Received
from gateway.providers.meta.interactive import interactive
from gateway.providers.telegram.keyboard import inline_keyboard
from gateway.providers.web.chat import WebChat

BACK = ReplyOption("0", "Back", nav=True)
MORE = ReplyOption("98", "More", nav=True)
LIMITS = WHATSAPP_CHOICES


def _reply(
    *labels: str, text: str = "Type of business", nav: tuple[ReplyOption, ...] = ()
) -> Reply:
    options = tuple(ReplyOption(str(i), label) for i, label in enumerate(labels, start=1))
    return Reply(text, options + nav)


def _web_options(reply: Reply) -> Any:
    response = WebChat().respond(Received(context=None), [reply])
    return json.loads(bytes(response.body))["replies"][0]["options"]


def _interactive(reply: Reply) -> dict[str, Any]:
    drawn = interactive(reply)
    assert drawn is not None
    return drawn


@pytest.mark.parametrize("provider", ["meta", "telegram", "web"])
def test_every_option_is_shown(provider: str) -> None:
    reply = _reply("Cottage", "Small", "Medium", nav=(BACK,))
    draw: dict[str, Callable[[Reply], object]] = {
        "meta": interactive,
        "telegram": inline_keyboard,
        "web": _web_options,
    }
    drawn = draw[provider](reply)
    for label in ("Cottage", "Small", "Medium", "Back"):
        assert label in repr(drawn), (provider, label)


def test_whatsapp_buttons_for_up_to_three_short_options() -> None:
    drawn = _interactive(_reply("Cottage", "Small", "Medium"))
    assert drawn == {
        "type": "button",
        "body": {"text": "Type of business"},
        "action": {
            "buttons": [
                {"type": "reply", "reply": {"id": "1", "title": "Cottage"}},
                {"type": "reply", "reply": {"id": "2", "title": "Small"}},
                {"type": "reply", "reply": {"id": "3", "title": "Medium"}},
            ]
        },
    }
    assert LIMITS.buttons == 3
    assert LIMITS.button_title == 20


def test_whatsapp_list_for_up_to_ten_options() -> None:
    labels = [f"Activity {n}" for n in range(1, 11)]
    drawn = _interactive(_reply(*labels))
    assert drawn["type"] == "list"
    assert len(drawn["action"]["button"]) <= 20
    rows = [row for s in drawn["action"]["sections"] for row in s["rows"]]
    assert [row["id"] for row in rows] == [str(n) for n in range(1, 11)]
    assert [row["title"] for row in rows] == labels
    assert LIMITS.rows == 10


def test_whatsapp_long_titles_use_a_list_with_cut_titles() -> None:
    long = "Travel and transport agent services"
    drawn = _interactive(_reply("Bakery", long))
    assert drawn["type"] == "list"  # a button title is at most 20
    rows = drawn["action"]["sections"][0]["rows"]
    assert rows[1]["title"] == long[: LIMITS.row_title - 1] + "…"
    assert len(rows[1]["title"]) == LIMITS.row_title
    assert rows[1]["description"] == long
    assert "description" not in rows[0]


def test_whatsapp_duplicate_titles_are_not_buttons() -> None:
    assert _interactive(_reply("Same", "Same"))["type"] == "list"


def test_whatsapp_falls_back_to_numbered_text() -> None:
    assert interactive(_reply(*[f"Option {n}" for n in range(1, 12)])) is None
    assert interactive(_reply("A", "B", text="x" * (LIMITS.body + 1))) is None
    assert interactive(Reply("Hello")) is None


def test_telegram_inline_keyboard() -> None:
    keyboard = inline_keyboard(_reply("Cottage", "Small", nav=(MORE, BACK)))
    assert keyboard == {
        "inline_keyboard": [
            [{"text": "1. Cottage", "callback_data": "1"}],
            [{"text": "2. Small", "callback_data": "2"}],
            [{"text": "More", "callback_data": "98"}],
            [{"text": "Back", "callback_data": "0"}],
        ]
    }
    assert inline_keyboard(Reply("Hi")) is None


def test_telegram_callback_data_is_at_most_64_bytes() -> None:
    reply = Reply("Pick", (ReplyOption("ཀ" * 40, "Tibetan key"), ReplyOption("k" * 100, "Long")))
    keyboard = inline_keyboard(reply)
    assert keyboard is not None
    for row in keyboard["inline_keyboard"]:
        data = row[0]["callback_data"]
        assert 1 <= len(data.encode()) <= 64


def test_web_options_json() -> None:
    assert _web_options(_reply("Cottage", nav=(BACK,))) == [
        {"key": "1", "label": "Cottage"},
        {"key": "0", "label": "Back"},
    ]
    assert _web_options(Reply("Hi")) == []


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    text=st.text(max_size=1200),
    labels=st.lists(st.text(min_size=1, max_size=80), max_size=12),
)
def test_whatsapp_interactive_respects_meta_limits(text: str, labels: list[str]) -> None:
    drawn = interactive(_reply(*labels, text=text))
    if drawn is None:
        return
    assert len(drawn["body"]["text"]) <= LIMITS.body
    if drawn["type"] == "button":
        buttons = drawn["action"]["buttons"]
        titles = [b["reply"]["title"] for b in buttons]
        assert len(buttons) <= LIMITS.buttons
        assert all(1 <= len(t) <= LIMITS.button_title for t in titles)
        assert len(set(titles)) == len(titles)
    else:
        rows = [row for s in drawn["action"]["sections"] for row in s["rows"]]
        assert len(rows) <= LIMITS.rows
        assert all(len(row["title"]) <= LIMITS.row_title for row in rows)
        assert all(len(row.get("description", "")) <= LIMITS.row_description for row in rows)
        assert all(len(row["id"]) <= 200 for row in rows)
