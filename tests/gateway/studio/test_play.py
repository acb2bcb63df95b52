"""Playing a draft as a citizen would, and keeping the play as a conversation test that
passes when the draft's tests are run."""

from __future__ import annotations

import pytest
import yaml

from dialogs.catalog import Catalog
from dialogs.compiler import CompiledService, compile_service
from dialogs.conversation_tests import LookupMock, parse_tests, run_file
from dialogs.media import Medium
from gateway.studio.drafts import checked
from gateway.studio.play import (
    MAX_INPUTS,
    PlayError,
    as_case,
    distinctive,
    mock_case,
    play,
    with_case,
    with_mocks,
)

STALL = """\
format: 1
id: market-stall
version: 1
title: {en: Market stall, dz: ཁྲོམ་གྱི་ཚོང་ཁྲི}
languages: [en, dz]
steps:
  - id: cid
    type: national_id
    label: {en: CID, dz: ངོ་སྤྲོད}
    prompt: {en: Enter your citizenship ID, dz: ངོ་སྤྲོད་ལག་ཁྱེར་ཨང་བཙུགས།}

  - id: citizen
    type: lookup
    url: "https://census.example.gov.bt/api/v1/citizens/{{ answers.cid }}"
    fields: [name]
    confirms_identity: true
    on_error: stalls
    next: stalls
    example: {name: Pema Wangmo}

  - id: stalls
    type: number
    label: {en: Stalls, dz: ཚོང་ཁྲི}
    prompt:
      en: >-
        {% if answers.citizen.name %}Welcome {{ answers.citizen.name }}. {% endif %}How
        many stalls (1 to 4)?
      dz: "ཚོང་ཁྲི་ག་དེམ་ཅིག (1-4)"
    min: 1
    max: 4
    error: {en: A trader rents 1 to 4 stalls., dz: ཚོང་ཁྲི་ 1-4}

  - id: goods
    type: choice
    label: {en: Goods, dz: ཅ་ལ}
    prompt: {en: "What do you sell?", dz: "ཅ་ལ་ག་ཅི་བཙོང་ནི?"}
    options:
      - {value: food, label: {en: Vegetables, dz: ཚོད་བསྲེ}}
      - {value: cloth, label: {en: Cloth, dz: རས}}
      - {value: crafts, label: {en: Crafts, dz: ལག་ཤེས}}

  - id: market
    type: choice
    label: {en: Market, dz: ཁྲོམ}
    prompt: {en: "Which market?", dz: "ཁྲོམ་ག་འདི?"}
    options:
      - {value: thimphu, label: {en: Thimphu Centenary Farmers Market, dz: ཐིམ་ཕུ}}
      - {value: paro, label: {en: Paro, dz: སྤ་རོ}}
      - {value: punakha, label: {en: Punakha, dz: སྤུ་ན་ཁ}}
      - {value: wangdue, label: {en: Wangdue, dz: དབང་འདུས}}

  - id: review
    type: summary
    prompt: {en: Check your application, dz: ཞིབ་དཔྱད་འབད།}
    fields: [stalls, goods, market]

  - id: submit
    type: submit
    mode: review
    reference_prefix: MS
    assurance: self-declared
    next: done

  - id: done
    type: end
    prompt:
      en: "Application {{ submission.reference }} received."
      dz: "ཞུ་ཡིག {{ submission.reference }} འཐོབ་ཡི།"
"""
STALL_TESTS = """\
service: market-stall
cases:
  - name: found in the census
    channels: [ussd]
    lookups:
      citizen: {data: {name: Karma Dorji}}
    steps:
      - screen_contains: citizenship ID
      - send: "11501001234"
        screen_contains: Welcome Karma Dorji
"""
ANSWERS = ["11501001234", "9", "2", "1", "2", "1"]


def compiled(source: str = STALL) -> CompiledService:
    draft = checked(source, "market-stall.yaml", {})
    assert draft.publishable, draft.diagnostics
    assert draft.loaded.definition is not None
    return compile_service(draft.loaded.definition)


def catalog(source: str = STALL) -> Catalog:
    return Catalog.of([compiled(source)])


def test_a_play_shows_each_screen_with_the_mocks_of_the_first_case() -> None:
    played = play(
        catalog(),
        "market-stall",
        Medium.USSD,
        "en",
        ANSWERS,
        mock_case(STALL_TESTS, "market-stall"),
    )
    assert [turn.sent for turn in played.turns] == [None, *ANSWERS]
    assert "citizenship ID" in played.turns[0].screen
    assert "Welcome Karma Dorji" in played.turns[1].screen  # the case's mock, not the example
    assert played.turns[2].screen.startswith("A trader rents 1 to 4 stalls.")  # 9 refused
    assert played.turns[2].at == "stalls"
    labels = [(o.key, o.label, o.nav) for o in played.turns[3].options]
    assert labels == [
        ("1", "Vegetables", False),
        ("2", "Cloth", False),
        ("3", "Crafts", False),
        ("0", "Back", True),
    ]
    assert "Application MS-2026-000001 received." in played.turns[-1].screen
    assert played.ended
    assert played.at == "done"
    assert played.problems == ()


def test_without_tests_a_lookup_answers_its_example_and_mocks_can_be_given() -> None:
    default = mock_case(None, "market-stall")
    played = play(catalog(), "market-stall", Medium.WEB, "dz", ANSWERS[:1], default)
    assert "ཚོང་ཁྲི་ག་དེམ་ཅིག" in played.turns[1].screen  # in Dzongkha, on the web chat
    failing = with_mocks(default, {"citizen": LookupMock(error="timeout")}, None)
    failed = play(catalog(), "market-stall", Medium.USSD, "en", ANSWERS[:1], failing)
    assert "Welcome" not in failed.turns[1].screen
    assert failed.at == "stalls"


def test_plays_are_bounded_and_in_the_service_languages() -> None:
    case = mock_case(None, "market-stall")
    with pytest.raises(PlayError):
        play(catalog(), "market-stall", Medium.USSD, "en", ["1"] * (MAX_INPUTS + 1), case)
    with pytest.raises(PlayError):
        play(catalog(), "market-stall", Medium.USSD, "en", ["x" * 501], case)
    with pytest.raises(PlayError):
        play(catalog(), "market-stall", Medium.USSD, "fr", [], case)
    with pytest.raises(PlayError):
        play(catalog(), "other-service", Medium.USSD, "en", [], case)


def test_a_saved_play_is_a_case_that_passes_on_its_medium() -> None:
    mocks = mock_case(STALL_TESTS, "market-stall")
    for medium in Medium:
        played = play(catalog(), "market-stall", medium, "en", ANSWERS, mocks)
        case = as_case(f"played on {medium}", played, mocks)
        assert case.channels == [medium]
        assert case.lookups == mocks.lookups
        assert case.steps[2].screen_contains == ["A trader rents 1 to 4 stalls."]
        assert case.steps[-1].ended is True
        tests = with_case(STALL_TESTS, "market-stall", case)
        parsed, problems = parse_tests(tests, "market-stall.tests.yaml")
        assert parsed is not None, problems
        (result,) = run_file(catalog(), parsed, [medium])[-1:]
        assert result.passed, result.failures


def test_a_saved_case_catches_a_changed_screen() -> None:
    mocks = mock_case(STALL_TESTS, "market-stall")
    played = play(catalog(), "market-stall", Medium.SMS, "en", ANSWERS, mocks)
    tests = with_case(None, "market-stall", as_case("mine", played, mocks))
    parsed, _ = parse_tests(tests, "market-stall.tests.yaml")
    assert parsed is not None
    changed = catalog(STALL.replace("What do you sell?", "What goods do you sell?"))
    (result,) = run_file(changed, parsed)
    assert not result.passed
    assert "What do you sell?" in " ".join(result.failures)


def test_a_case_is_appended_to_the_authors_text_as_written() -> None:
    mocks = mock_case(STALL_TESTS, "market-stall")
    played = play(catalog(), "market-stall", Medium.USSD, "en", ANSWERS[:2], mocks)
    commented = "# the author's comment stays\n" + STALL_TESTS
    tests = with_case(commented, "market-stall", as_case("second", played, mocks))
    assert tests.startswith(commented)
    data = yaml.safe_load(tests)
    assert [case["name"] for case in data["cases"]] == ["found in the census", "second"]
    fresh = yaml.safe_load(with_case(None, "market-stall", as_case("first", played, mocks)))
    assert fresh["service"] == "market-stall"
    assert fresh["cases"][0]["steps"][1] == {
        "send": "11501001234",
        "screen_contains": ["Welcome Karma Dorji. How many stalls (1 to 4)?"],
        "at": "stalls",
    }
    with pytest.raises(PlayError):
        with_case("service: market-stall\n", "market-stall", as_case("x", played, mocks))


def test_the_distinctive_part_of_a_screen_is_its_first_line_of_text() -> None:
    assert distinctive("1. Yes\n2. No") == "1. Yes"
    assert distinctive("\n  Type of business \n1. Cottage") == "Type of business"
    assert distinctive("") is None
    assert distinctive("x" * 100) == "x" * 60
