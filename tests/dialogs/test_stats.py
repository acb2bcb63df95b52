"""Time to finish (`dialogs.stats`): the paths through a service and what each costs."""

from __future__ import annotations

import math
import textwrap

import pytest

from dialogs.compiler import CompiledService, compile_service
from dialogs.loader import Loaded, load_text
from dialogs.media import Medium
from dialogs.stats import (
    EFFECT_SECONDS,
    KEYPAD_SECONDS_PER_PRESS,
    MULTITAP_PRESSES_PER_LETTER,
    READ_SECONDS_PER_CHARACTER,
    ROUND_TRIP_SECONDS,
    THINK_SECONDS,
    TOUCH_SECONDS_PER_CHARACTER,
    estimate,
    estimates,
    paths,
    session_problems,
)

BRANCHING = """\
format: 1
id: branching
version: 1
title: Branching
steps:
  - id: kind
    type: choice
    prompt: Which kind?
    options:
      - {value: short, label: Short}
      - {value: long, label: Long}
    next:
      - if: answers.kind == "short"
        goto: done
      - goto: name
  - id: name
    type: text
    prompt: Your name
    max_length: 30
  - id: done
    type: end
    prompt: Thank you.
"""


def _load(text: str) -> tuple[Loaded, CompiledService]:
    loaded = load_text(textwrap.dedent(text), "svc.yaml")
    assert loaded.definition is not None, [p.format() for p in loaded.problems]
    return loaded, compile_service(loaded.definition)


def test_every_branch_is_a_path_whatever_its_condition() -> None:
    _, service = _load(BRANCHING)
    found, complete = paths(service)
    assert complete
    assert sorted(found) == [("kind", "done"), ("kind", "name", "done")]
    result = estimate(service, Medium.USSD, "en")
    assert result.shortest.steps == ("kind", "done")
    assert result.longest.steps == ("kind", "name", "done")
    assert result.paths == 2


def test_a_loop_is_gone_round_once() -> None:
    _, service = _load(
        """\
        format: 1
        id: looping
        version: 1
        title: Looping
        steps:
          - id: amount
            type: number
            prompt: How many?
          - id: again
            type: yes_no
            prompt: Add another?
            next:
              - if: answers.again
                goto: amount
              - goto: done
          - id: done
            type: end
            prompt: Done.
        """
    )
    found, complete = paths(service)
    assert complete
    assert sorted(found, key=len) == [
        ("amount", "again", "done"),
        ("amount", "again", "amount", "again", "done"),
    ]


def test_a_lookup_failure_is_a_path_and_an_effect_shows_no_screen() -> None:
    _, service = _load(
        """\
        format: 1
        id: looked
        version: 1
        title: Looked up
        steps:
          - id: cid
            type: national_id
            prompt: Citizenship ID
          - id: citizen
            type: lookup
            url: "https://census.example.gov.bt/{{ answers.cid }}"
            timeout: 3
            fields: [name]
            on_error: sorry
            next: done
          - id: done
            type: end
            prompt: Found.
          - id: sorry
            type: end
            prompt: Not found.
        """
    )
    found, _ = paths(service)
    assert sorted(found) == [("cid", "citizen", "done"), ("cid", "citizen", "sorry")]
    result = estimate(service, Medium.WEB, "en")
    # cid's screen and the end's: the lookup adds time but no screen.
    assert result.shortest.cost.screens == 2
    without = estimate(service, Medium.WEB, "en", [("cid", "done")]).shortest.cost.seconds
    assert result.shortest.cost.seconds == pytest.approx(without + EFFECT_SECONDS)


def test_a_summary_s_changes_are_not_paths() -> None:
    _, service = _load(
        """\
        format: 1
        id: summed
        version: 1
        title: Summed
        steps:
          - id: name
            type: text
            prompt: Name
          - id: review
            type: summary
            prompt: Check
            fields: [name]
          - id: done
            type: end
            prompt: Done.
        """
    )
    assert paths(service)[0] == [("name", "review", "done")]


NUMBER = """\
format: 1
id: one-question
version: 1
title: One question
steps:
  - id: cid
    type: national_id
    prompt: Your citizenship ID
  - id: done
    type: end
    prompt: Thank you.
"""


def test_ussd_counts_digits_and_send_and_the_seconds_follow_the_model() -> None:
    _, service = _load(NUMBER)
    cost = estimate(service, Medium.USSD, "en").longest.cost
    assert cost.screens == 2
    assert cost.characters == len("Your citizenship ID") + len("Thank you.")
    assert cost.keys == len("11501001234") + 1  # the example's digits, then send
    expected = (
        cost.characters * READ_SECONDS_PER_CHARACTER
        + 2 * ROUND_TRIP_SECONDS[Medium.USSD]
        + THINK_SECONDS
        + cost.keys * KEYPAD_SECONDS_PER_PRESS
    )
    assert cost.seconds == pytest.approx(expected)


def test_letters_are_multi_tap_on_ussd_and_characters_elsewhere() -> None:
    _, service = _load(BRANCHING)
    name = ("name",)  # the text question alone: its example is "Pema Wangmo"
    ussd = estimate(service, Medium.USSD, "en", [name]).longest.cost
    typed = "Pema Wangmo"
    assert ussd.keys == math.ceil(len(typed) * MULTITAP_PRESSES_PER_LETTER + 1)
    web = estimate(service, Medium.WEB, "en", [name]).longest.cost
    assert web.keys == len(typed)
    assert web.seconds == pytest.approx(
        web.characters * READ_SECONDS_PER_CHARACTER
        + ROUND_TRIP_SECONDS[Medium.WEB]
        + THINK_SECONDS
        + (len(typed) + 1) * TOUCH_SECONDS_PER_CHARACTER
    )


def test_a_long_screen_is_paged_and_each_page_costs_a_more() -> None:
    long_text = " ".join(["This paragraph explains the rules at length."] * 12)
    _, service = _load(
        f"""\
        format: 1
        id: paged
        version: 1
        title: Paged
        steps:
          - id: notice
            type: info
            prompt: {long_text}
          - id: done
            type: end
            prompt: Done.
        """
    )
    cost = estimate(service, Medium.USSD, "en", [("notice",)]).longest.cost
    assert cost.screens >= 3
    assert cost.characters >= len(long_text)
    # "98" and send on every page but the last, then "1" and send.
    assert cost.keys == (cost.screens - 1) * 3 + 2


def test_ussd_is_weighed_in_english_only_and_other_channels_in_each_language() -> None:
    _, service = _load(
        """\
        format: 1
        id: bilingual
        version: 1
        title: {en: Bilingual, dz: སྐད་གཉིས}
        languages: [en, dz]
        steps:
          - id: done
            type: end
            prompt: {en: Done., dz: ཚར་ཡི།}
        """
    )
    shown = {(item.medium, item.lang) for item in estimates(service)}
    assert (Medium.USSD, "en") in shown
    assert (Medium.USSD, "dz") not in shown
    assert {(Medium.SMS, "en"), (Medium.SMS, "dz"), (Medium.WEB, "dz")} <= shown


def _many_questions(count: int) -> str:
    steps = "".join(
        f"  - id: q{i}\n    type: text\n    prompt: Question number {i} about your application\n"
        for i in range(count)
    )
    return (
        "format: 1\nid: long-service\nversion: 1\ntitle: Long\nsteps:\n"
        + steps
        + "  - id: done\n    type: end\n    prompt: Done.\n"
    )


def test_no_warning_when_every_ussd_path_fits_the_session() -> None:
    loaded, service = _load(NUMBER)
    assert session_problems(loaded, estimates(service), 180) == []


def test_w421_at_the_id_when_even_the_shortest_ussd_path_nears_the_session() -> None:
    loaded, service = _load(_many_questions(12))
    problems = session_problems(loaded, estimates(service), 180)
    assert [(p.code, p.line, p.col) for p in problems] == [("W421", 2, 5)]
    assert "180 s session" in problems[0].message
    assert problems[0].hint
    assert session_problems(loaded, estimates(service), 3600) == []  # a longer session


def test_w420_at_the_id_when_only_the_longest_ussd_path_nears_the_session() -> None:
    text = _many_questions(12).replace(
        "steps:\n",
        "steps:\n  - id: quick\n    type: yes_no\n    prompt: In a hurry?\n"
        "    next:\n      - if: answers.quick\n        goto: done\n      - goto: q0\n",
    )
    loaded, service = _load(text)
    problems = session_problems(loaded, estimates(service), 180)
    assert [(p.code, p.line, p.col) for p in problems] == [("W420", 2, 5)]
    assert "quick > q0" in problems[0].message


def test_paths_beyond_the_budget_are_left_out_and_said_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dialogs.stats.MAX_PATHS", 1)
    _, service = _load(BRANCHING)
    found, complete = paths(service)
    assert len(found) == 1
    assert not complete
    assert not estimates(service)[0].complete
