"""What a citizen sees at each step of a draft, on every medium: the engine's screens with
typical answers, the step's error, the USSD worst case as the checker sizes it."""

from __future__ import annotations

from dialogs.catalog import Catalog
from dialogs.checker import check
from dialogs.compiler import compile_service
from dialogs.media import PROFILES, Medium
from gateway.studio.drafts import checked
from gateway.studio.play import mock_case
from gateway.studio.preview import MediumScreen, Preview, StepPreview, preview
from tests.gateway.studio.test_play import STALL, STALL_TESTS


def _preview(source: str = STALL, lang: str = "en", tests: str | None = STALL_TESTS) -> Preview:
    draft = checked(source, "market-stall.yaml", {})
    assert draft.loaded.definition is not None  # errors or not: a draft that loads shows
    service = compile_service(draft.loaded.definition)
    return preview(Catalog.of([service]), service, lang, mock_case(tests, "market-stall"))


def _step(found: Preview, name: str) -> StepPreview:
    (step,) = [s for s in found.steps if s.step == name]
    return step


def _on(step: StepPreview, medium: Medium) -> MediumScreen:
    (screen,) = [m for m in step.media if m.medium is medium]
    return screen


def test_every_step_that_says_something_on_every_medium() -> None:
    found = _preview()
    assert found.languages == ("en", "dz")
    # The lookup and the submission show nothing of their own.
    assert [s.step for s in found.steps] == ["cid", "stalls", "goods", "market", "review", "done"]
    for step in found.steps:
        assert [m.medium for m in step.media] == list(Medium)
    stalls = _step(found, "stalls")
    assert _on(stalls, Medium.WEB).screen == "Welcome Karma Dorji. How many stalls (1 to 4)?"
    assert stalls.error == "A trader rents 1 to 4 stalls."
    assert _on(stalls, Medium.SMS).error_screen == (
        "A trader rents 1 to 4 stalls.\nWelcome Karma Dorji. How many stalls (1 to 4)?"
    )
    review = _on(_step(found, "review"), Medium.WEB).screen
    assert "Check your application" in review
    assert "Stalls: 1" in review  # the typical answers: each step's first example
    done = _on(_step(found, "done"), Medium.SMS)
    assert done.screen == "Application MS-2026-000001 received."
    assert done.error_screen is None


def test_ussd_shows_the_typical_and_the_worst_screen_against_its_limit() -> None:
    limit = PROFILES[Medium.USSD].max_septets
    goods = _on(_step(_preview(), "goods"), Medium.USSD)
    assert goods.screen == "What do you sell?\n1. Vegetables\n2. Cloth\n3. Crafts\n0. Back"
    assert goods.size is not None
    assert (goods.size.characters, goods.size.limit, goods.size.fits) == (
        len(goods.screen),
        limit,
        True,
    )
    assert goods.worst is not None
    assert goods.worst.screen.startswith("Please reply with one of the numbers shown.")
    assert goods.worst.size.characters == len(goods.worst.screen)
    stalls = _on(_step(_preview(), "stalls"), Medium.USSD)
    assert stalls.worst is not None
    assert "x" * 40 in stalls.worst.screen  # the name from the registry, at its longest
    assert stalls.sms is None
    assert stalls.whatsapp is None
    assert stalls.buttons == ()


def test_a_worst_case_over_the_limit_is_what_the_checker_reports() -> None:
    long = STALL.replace("many stalls (1 to 4)?", "many stalls " + "y" * 150 + "?")
    stalls = _on(_step(_preview(long), "stalls"), Medium.USSD)
    assert stalls.worst is not None
    assert stalls.worst.size.fits is False
    assert stalls.worst.size.characters > (PROFILES[Medium.USSD].max_septets or 0)
    draft = checked(long, "market-stall.yaml", {})
    assert "E250" in [p.code for p in check(draft.loaded)]
    assert not draft.publishable  # still previewed: the author sees what is too long


def test_sms_parts_whatsapp_buttons_or_list_telegram_keyboard_web_replies() -> None:
    found = _preview()
    goods, market = _step(found, "goods"), _step(found, "market")
    sms = _on(goods, Medium.SMS).sms
    assert sms is not None
    assert (sms.parts, sms.encoding, sms.limit, sms.fits) == (1, "GSM-7", 3, True)
    buttons = _on(goods, Medium.WHATSAPP).whatsapp
    assert buttons is not None
    assert (buttons.kind, buttons.titles) == ("buttons", ("Vegetables", "Cloth", "Crafts"))
    listed = _on(market, Medium.WHATSAPP).whatsapp
    assert listed is not None
    assert listed.kind == "list"  # four options: more than three buttons
    assert listed.titles[0] == "Thimphu Centenary Farme…"  # cut at WhatsApp's 24
    assert _on(goods, Medium.TELEGRAM).buttons == ("1. Vegetables", "2. Cloth", "3. Crafts")
    assert _on(goods, Medium.WEB).buttons == ("Vegetables", "Cloth", "Crafts")
    assert _on(goods, Medium.TELEGRAM).screen == "What do you sell?"


def test_in_another_language_and_without_tests() -> None:
    found = _preview(lang="dz", tests=None)
    assert found.language == "dz"
    stalls = _step(found, "stalls")
    assert _on(stalls, Medium.WEB).screen == "ཚོང་ཁྲི་ག་དེམ་ཅིག (1-4)"
    assert stalls.error == "ཚོང་ཁྲི་ 1-4"
    # USSD shows English (GSM-7), as the engine does.
    assert _on(stalls, Medium.USSD).screen.startswith("Welcome Pema Wangmo")  # the example
    sms = _on(_step(found, "goods"), Medium.SMS).sms
    assert sms is not None
    assert sms.encoding == "UCS-2"
