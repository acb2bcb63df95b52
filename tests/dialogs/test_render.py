"""Renderers: how one channel-neutral Reply looks on every channel."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.media import PROFILES, Medium
from dialogs.messages import Reply, ReplyOption
from dialogs.render import RENDERERS, Rendered, renderer_for
from dialogs.render.base import numbered
from dialogs.render.whatsapp import BODY, BUTTON_TITLE, MAX_BUTTONS, MAX_ROWS, ROW_TITLE

BACK = ReplyOption("0", "Back", nav=True)
MORE = ReplyOption("98", "More", nav=True)


def _reply(
    *labels: str, text: str = "Type of business", nav: tuple[ReplyOption, ...] = ()
) -> Reply:
    options = tuple(ReplyOption(str(i), label) for i, label in enumerate(labels, start=1))
    return Reply(text, options + nav)


def test_every_channel_has_a_renderer() -> None:
    assert set(RENDERERS) == set(PROFILES)
    for medium, renderer in RENDERERS.items():
        assert renderer.medium == medium
        assert renderer_for(medium) is renderer
    with pytest.raises(ValueError, match="carrier-pigeon"):
        renderer_for(Medium("carrier-pigeon"))  # never taken for SMS


@pytest.mark.parametrize("channel", sorted(RENDERERS))
def test_every_renderer_keeps_end_and_link(channel: Medium) -> None:
    reply = Reply("Registered BR-1.", (), link="https://docs.example/BR-1", end=True)
    rendered = RENDERERS[channel].render(reply)
    assert isinstance(rendered, Rendered)
    assert rendered.end is True
    assert rendered.link == "https://docs.example/BR-1"
    assert "Registered BR-1." in rendered.text


@pytest.mark.parametrize("channel", sorted(RENDERERS))
def test_every_renderer_shows_every_option(channel: Medium) -> None:
    reply = _reply("Cottage", "Small", "Medium", nav=(BACK,))
    rendered = RENDERERS[channel].render(reply)
    shown = rendered.text + repr(rendered.interactive)
    for label in ("Cottage", "Small", "Medium", "Back"):
        assert label in shown, (channel, label)
    assert rendered.end is False


def test_numbered() -> None:
    assert numbered("Pick", _reply("A", "B", nav=(MORE, BACK)).options) == (
        "Pick\n1. A\n2. B\n98. More\n0. Back"
    )
    assert numbered("", _reply("A").options) == "1. A"


def test_ussd_is_numbered_gsm_text() -> None:
    reply = _reply("Thimphu", "ཐིམ་ཕུ", nav=(BACK,), text="Dzongkhag?")
    rendered = RENDERERS[Medium.USSD].render(reply)
    assert rendered.text == "Dzongkhag?\n1. Thimphu\n2. ??????\n0. Back"
    assert rendered.interactive is None


def test_sms_is_numbered_text_with_the_link() -> None:
    rendered = RENDERERS[Medium.SMS].render(
        Reply("Registered.", (), link="https://docs.example/x", end=True)
    )
    assert rendered.text == "Registered.\nhttps://docs.example/x"
    # a link already in the text is not repeated
    again = RENDERERS[Medium.SMS].render(
        Reply("See https://docs.example/x", (), link="https://docs.example/x")
    )
    assert again.text == "See https://docs.example/x"
    assert RENDERERS[Medium.SMS].render(_reply("A", "B")).text == "Type of business\n1. A\n2. B"


def _interactive(reply: Reply) -> dict[str, Any]:
    rendered = RENDERERS[Medium.WHATSAPP].render(reply)
    assert rendered.interactive is not None
    return rendered.interactive


def test_whatsapp_buttons_for_up_to_three_short_options() -> None:
    interactive = _interactive(_reply("Cottage", "Small", "Medium"))
    assert interactive == {
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
    assert MAX_BUTTONS == 3
    assert BUTTON_TITLE == 20


def test_whatsapp_list_for_up_to_ten_options() -> None:
    labels = [f"Activity {n}" for n in range(1, 11)]
    interactive = _interactive(_reply(*labels))
    assert interactive["type"] == "list"
    assert len(interactive["action"]["button"]) <= 20
    rows = [row for s in interactive["action"]["sections"] for row in s["rows"]]
    assert [row["id"] for row in rows] == [str(n) for n in range(1, 11)]
    assert [row["title"] for row in rows] == labels
    assert MAX_ROWS == 10


def test_whatsapp_long_titles_use_a_list_with_cut_titles() -> None:
    long = "Travel and transport agent services"
    interactive = _interactive(_reply("Bakery", long))
    assert interactive["type"] == "list"  # a button title is at most 20
    rows = interactive["action"]["sections"][0]["rows"]
    assert rows[1]["title"] == long[: ROW_TITLE - 1] + "…"
    assert len(rows[1]["title"]) == ROW_TITLE
    assert rows[1]["description"] == long
    assert "description" not in rows[0]


def test_whatsapp_duplicate_titles_are_not_buttons() -> None:
    assert _interactive(_reply("Same", "Same"))["type"] == "list"


def test_whatsapp_falls_back_to_numbered_text() -> None:
    many = RENDERERS[Medium.WHATSAPP].render(_reply(*[f"Option {n}" for n in range(1, 12)]))
    assert many.interactive is None
    assert many.text.splitlines()[-1] == "11. Option 11"
    long_body = RENDERERS[Medium.WHATSAPP].render(_reply("A", "B", text="x" * (BODY + 1)))
    assert long_body.interactive is None
    plain = RENDERERS[Medium.WHATSAPP].render(Reply("Hello"))
    assert plain.interactive is None
    assert plain.text == "Hello"


def test_telegram_inline_keyboard() -> None:
    rendered = RENDERERS[Medium.TELEGRAM].render(_reply("Cottage", "Small", nav=(MORE, BACK)))
    assert rendered.text == "Type of business"
    assert rendered.interactive == {
        "inline_keyboard": [
            [{"text": "1. Cottage", "callback_data": "1"}],
            [{"text": "2. Small", "callback_data": "2"}],
            [{"text": "More", "callback_data": "98"}],
            [{"text": "Back", "callback_data": "0"}],
        ]
    }
    assert RENDERERS[Medium.TELEGRAM].render(Reply("", ())).text  # never an empty message


def test_telegram_callback_data_is_at_most_64_bytes() -> None:
    reply = Reply("Pick", (ReplyOption("ཀ" * 40, "Tibetan key"), ReplyOption("k" * 100, "Long")))
    rendered = RENDERERS[Medium.TELEGRAM].render(reply)
    assert rendered.interactive is not None
    for row in rendered.interactive["inline_keyboard"]:
        data = row[0]["callback_data"]
        assert 1 <= len(data.encode()) <= 64


def test_web_options_json() -> None:
    rendered = RENDERERS[Medium.WEB].render(_reply("Cottage", nav=(BACK,)))
    assert rendered.text == "Type of business"
    assert rendered.interactive == {
        "options": [{"key": "1", "label": "Cottage"}, {"key": "0", "label": "Back"}]
    }
    assert RENDERERS[Medium.WEB].render(Reply("Hi")).interactive is None


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    text=st.text(max_size=1200),
    labels=st.lists(st.text(min_size=1, max_size=80), max_size=12),
)
def test_whatsapp_interactive_respects_meta_limits(text: str, labels: list[str]) -> None:
    rendered = RENDERERS[Medium.WHATSAPP].render(_reply(*labels, text=text))
    interactive = rendered.interactive
    if interactive is None:
        return
    assert len(interactive["body"]["text"]) <= BODY
    if interactive["type"] == "button":
        buttons = interactive["action"]["buttons"]
        titles = [b["reply"]["title"] for b in buttons]
        assert len(buttons) <= MAX_BUTTONS
        assert all(1 <= len(t) <= BUTTON_TITLE for t in titles)
        assert len(set(titles)) == len(titles)
    else:
        rows = [row for s in interactive["action"]["sections"] for row in s["rows"]]
        assert len(rows) <= MAX_ROWS
        assert all(len(row["title"]) <= ROW_TITLE for row in rows)
        assert all(len(row.get("description", "")) <= 72 for row in rows)
        assert all(len(row["id"]) <= 200 for row in rows)
