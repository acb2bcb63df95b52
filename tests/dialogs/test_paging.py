"""Paging: long menus and long texts split into screens that fit each channel."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from dialogs.gsm import septets, sms_size, to_gsm
from dialogs.media import BACK_KEY, MORE_KEY, PROFILES, Medium, MediumProfile
from dialogs.messages import Reply, ReplyOption
from dialogs.paging import ELLIPSIS, fits, paginate
from dialogs.render import renderer_for
from tests.dialogs.helpers import SERVICES_DIR

USSD, SMS, WHATSAPP = PROFILES[Medium.USSD], PROFILES[Medium.SMS], PROFILES[Medium.WHATSAPP]
BACK = ReplyOption(BACK_KEY, "Back", nav=True)


def _labels(name: str) -> list[str]:
    path: Path = SERVICES_DIR / "lists" / f"{name}.yaml"
    options = yaml.safe_load(path.read_text(encoding="utf-8"))["options"]
    return [str(option["label"]["en"]) for option in options]


DZONGKHAGS = _labels("dzongkhags")


def _menu(labels: list[str], *, back: bool = True) -> Reply:
    options = tuple(ReplyOption(str(i), label) for i, label in enumerate(labels, start=1))
    return Reply("Dzongkhag of the business", options + ((BACK,) if back else ()))


def _rendered(reply: Reply, profile: MediumProfile) -> str:
    return renderer_for(profile.medium).render(reply).text


def _fits_channel(reply: Reply, profile: MediumProfile) -> None:
    text = _rendered(reply, profile)
    if profile.max_septets is not None:
        assert septets(to_gsm(text)) <= profile.max_septets, text
    if profile.max_segments is not None:
        assert sms_size(text).segments <= profile.max_segments, text
    if profile.max_options is not None:
        assert len(reply.options) <= profile.max_options


def test_profiles() -> None:
    assert set(PROFILES) == {"ussd", "sms", "whatsapp", "telegram", "web"}
    assert USSD.max_septets == 182
    assert not USSD.unicode
    assert USSD.show_back
    assert SMS.max_segments == 3
    assert WHATSAPP.max_options == 10
    assert (MORE_KEY, BACK_KEY) == ("98", "0")
    with pytest.raises(ValueError, match="carrier-pigeon"):
        Medium("carrier-pigeon")  # an unknown medium is an error, never SMS
    for medium, profile in PROFILES.items():
        assert profile.medium is medium


def test_twenty_dzongkhags_on_ussd() -> None:
    assert len(DZONGKHAGS) == 20
    pages = paginate(_menu(DZONGKHAGS), USSD, "More")
    assert len(pages) >= 2
    keys: list[str] = []
    for index, page in enumerate(pages):
        text = _rendered(page, USSD)
        assert septets(text) <= 182
        answers = [o.key for o in page.options if not o.nav]
        keys += answers
        nav = [o.key for o in page.options if o.nav]
        last = index == len(pages) - 1
        assert nav == ([BACK_KEY] if last else [MORE_KEY, BACK_KEY])
        if not last:
            assert text.endswith("\n98. More\n0. Back")
    # absolute numbering: each dzongkhag once, with its own number, in order
    assert keys == [str(n) for n in range(1, 21)]
    assert pages[0].text == "Dzongkhag of the business"
    assert "9. Pemagatshel" in _rendered(pages[0], USSD)
    assert "14. Thimphu" in _rendered(pages[-1], USSD)


def test_sms_shows_the_twenty_at_once() -> None:
    assert paginate(_menu(DZONGKHAGS), SMS, "More") == (_menu(DZONGKHAGS),)


def test_whatsapp_pages_hold_at_most_ten_options() -> None:
    pages = paginate(_menu(DZONGKHAGS, back=False), WHATSAPP, "More")
    assert len(pages) == 3
    for page in pages:
        assert len(page.options) <= 10
    keys = [o.key for page in pages for o in page.options if not o.nav]
    assert keys == [str(n) for n in range(1, 21)]
    assert [o.key for o in pages[0].options][-1] == MORE_KEY
    assert MORE_KEY not in [o.key for o in pages[-1].options]


def test_a_reply_that_fits_is_one_page() -> None:
    reply = Reply("Type of business", (ReplyOption("1", "Cottage"), BACK))
    for profile in PROFILES.values():
        assert fits(reply, profile)
        assert paginate(reply, profile, "More") == (reply,)


def test_long_text_is_split_at_spaces() -> None:
    words = [f"word{n}" for n in range(120)]
    reply = Reply(" ".join(words), (ReplyOption("1", "Continue"), BACK))
    pages = paginate(reply, USSD, "More")
    assert len(pages) >= 4
    for page in pages:
        _fits_channel(page, USSD)
    assert " ".join(page.text for page in pages if page.text).split() == words
    assert [o.key for o in pages[-1].options] == ["1", BACK_KEY]
    for page in pages[:-1]:  # "1" continues from any page: every page shows it
        assert [o.key for o in page.options] == ["1", MORE_KEY, BACK_KEY]


def test_long_sms_keeps_the_link_and_end_for_the_last_page() -> None:
    reply = Reply("x " * 1000, (), link="https://docs.example/BR-1", end=True)
    pages = paginate(reply, SMS, "More")
    assert len(pages) > 1
    for page in pages:
        _fits_channel(page, SMS)
    assert [p.link for p in pages] == [None] * (len(pages) - 1) + ["https://docs.example/BR-1"]
    assert [p.end for p in pages] == [False] * (len(pages) - 1) + [True]
    assert "https://docs.example/BR-1" in _rendered(pages[-1], SMS)


def test_a_closing_ussd_screen_is_cut_not_paged() -> None:
    reply = Reply("Registered. " + "detail " * 60, (), end=True)
    pages = paginate(reply, USSD, "More")
    assert len(pages) == 1
    assert pages[0].end
    assert pages[0].text.endswith(ELLIPSIS)
    assert septets(_rendered(pages[0], USSD)) <= 182
    assert pages[0].text.startswith("Registered. detail")


def test_an_option_too_long_for_any_screen_is_shortened() -> None:
    reply = Reply("Pick", (ReplyOption("1", "x" * 400), ReplyOption("2", "Short")))
    pages = paginate(reply, USSD, "More")
    for page in pages:
        _fits_channel(page, USSD)
    first = pages[0].options[0]
    assert first.key == "1"
    assert first.label.endswith(ELLIPSIS)
    assert [o.key for page in pages for o in page.options if not o.nav] == ["1", "2"]


def test_dzongkha_text_is_sized_as_shown_on_ussd() -> None:
    # USSD shows GSM-7 only: a Dzongkha answer becomes "?" characters, one septet each
    reply = Reply("ཐིམ་ཕུ་" * 20, (ReplyOption("1", "OK"),))
    assert fits(reply, USSD)
    assert len(paginate(reply, USSD, "More")) == 1


answer_labels = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    text=st.text(max_size=700),
    labels=st.lists(answer_labels, max_size=30),
    back=st.booleans(),
    channel=st.sampled_from(sorted(PROFILES)),
)
def test_every_page_fits_and_keeps_every_option_once(
    text: str, labels: list[str], back: bool, channel: Medium
) -> None:
    profile = PROFILES[channel]
    options = tuple(ReplyOption(str(i), label) for i, label in enumerate(labels, start=1))
    reply = Reply(text, options + ((BACK,) if back else ()))
    pages = paginate(reply, profile, "More")
    assert pages
    for page in pages:
        _fits_channel(page, profile)
    shown = [[o.key for o in page.options if not o.nav] for page in pages]
    every = [o.key for o in options]
    if len(pages) > 1 and all(keys == every for keys in shown):
        pass  # a few answers under a long text: repeated on every page
    else:
        assert [key for keys in shown for key in keys] == every
    for page in pages[:-1]:
        assert MORE_KEY in [o.key for o in page.options]
    assert MORE_KEY not in [o.key for o in pages[-1].options]


def test_every_page_of_a_long_summary_says_what_its_keys_do() -> None:
    # A summary two USSD screens long: "1" confirms from either page, so both show it.
    lines = [f"Answer {n}: {'x' * 24}" for n in range(1, 8)]
    reply = Reply(
        "\n".join(["Check your application", *lines]),
        (ReplyOption("1", "Confirm"), ReplyOption("2", "Change an answer"), BACK),
    )
    pages = paginate(reply, USSD, "More")
    assert len(pages) == 2
    for page in pages:
        _fits_channel(page, USSD)
        assert septets(_rendered(page, USSD)) <= 182
        assert "1. Confirm\n2. Change an answer" in _rendered(page, USSD)
    assert _rendered(pages[0], USSD).endswith("2. Change an answer\n98. More\n0. Back")
    assert _rendered(pages[1], USSD).endswith("2. Change an answer\n0. Back")
    assert "\n".join(page.text for page in pages).split("\n") == reply.text.split("\n")


def test_a_list_too_long_to_repeat_is_still_paged_once() -> None:
    reply = Reply("Dzongkhag of the business " * 6, _menu(DZONGKHAGS).options)
    pages = paginate(reply, USSD, "More")
    keys = [o.key for page in pages for o in page.options if not o.nav]
    assert keys == [str(n) for n in range(1, len(DZONGKHAGS) + 1)]
