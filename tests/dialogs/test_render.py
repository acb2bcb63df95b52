"""Renderers: how one channel-neutral Reply reads on every medium, as text.

Buttons, lists and keyboards are drawn by the providers that send them (Meta's interactive
messages, Telegram's inline keyboard, the web chat's JSON): tests/gateway/providers/
test_drawn_options.py.
"""

from __future__ import annotations

import pytest

from dialogs.media import PROFILES, Medium
from dialogs.messages import Reply, ReplyOption
from dialogs.render import RENDERERS, Rendered, renderer_for
from dialogs.render.base import numbered

BACK = ReplyOption("0", "Back", nav=True)
MORE = ReplyOption("98", "More", nav=True)
# Media whose screen is text: the options are numbered lines of it.
TEXT_MENUS = [Medium.USSD, Medium.SMS, Medium.WHATSAPP]


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


@pytest.mark.parametrize("channel", TEXT_MENUS)
def test_every_renderer_shows_every_option(channel: Medium) -> None:
    reply = _reply("Cottage", "Small", "Medium", nav=(BACK,))
    rendered = RENDERERS[channel].render(reply)
    shown = rendered.text
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


def test_whatsapp_text_is_numbered() -> None:
    many = RENDERERS[Medium.WHATSAPP].render(_reply(*[f"Option {n}" for n in range(1, 12)]))
    assert many.text.splitlines()[-1] == "11. Option 11"
    plain = RENDERERS[Medium.WHATSAPP].render(Reply("Hello"))
    assert plain.text == "Hello"


def test_telegram_text_is_the_reply_and_never_empty() -> None:
    rendered = RENDERERS[Medium.TELEGRAM].render(_reply("Cottage", "Small", nav=(MORE, BACK)))
    assert rendered.text == "Type of business"  # the options are its keyboard
    assert RENDERERS[Medium.TELEGRAM].render(Reply("", ())).text  # never an empty message


def test_web_text_is_the_reply() -> None:
    rendered = RENDERERS[Medium.WEB].render(_reply("Cottage", nav=(BACK,)))
    assert rendered.text == "Type of business"  # the page shows the options as buttons
