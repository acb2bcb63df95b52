"""Free text in the engine: picking a service, offering to switch, answers given up front.

The classifier is the gateway's: here a table of meanings stands in for it, so each rule
of the engine is checked on its own. `tests/nlu` checks the classifiers themselves.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from dialogs.catalog import Catalog
from dialogs.engine import act
from dialogs.media import Medium
from dialogs.messages import Entity, Meaning, StatusRequest, Understand
from dialogs.session import (
    Asking,
    AtMenu,
    ConfirmingPrefill,
    ResumeOffered,
    Suggested,
    SwitchOffered,
)
from tests.dialogs.helpers import (
    FISHING_V1,
    PET_LICENCE,
    Chat,
    Perform,
    compile_yaml,
    small_catalog,
)

CID = "11512000123"
MENU = (
    "Government services. Choose one:\n1. Fishing permit\n2. Pet licence\n3. Language"
    "\n4. My applications"
)


def meaning(text: str, intent: str | None, confidence: float, *entities: Entity) -> Meaning:
    return Meaning(text, intent, confidence, ((intent or "", confidence),), entities, "test")


MEANINGS = {
    m.text: m
    for m in (
        meaning("I want to go fishing", "fishing-permit", 0.92),
        meaning("fishng prmt", "fishing-permit", 0.62),
        meaning("my dog needs a licence, cid " + CID, "pet-licence", 0.9, Entity("cid", CID)),
        meaning("a pet licence instead", "pet-licence", 0.85),
        meaning("cancel this", "stop", 0.7),
        meaning("kuzuzangpo", "greet", 0.95),
        meaning("how does this work", "help", 0.9),
        meaning("where is my permit", "status", 0.88),
        meaning("sure thing", "affirm", 0.9),
        meaning("nah", "deny", 0.85),
        meaning("back to the list of services", "menu", 0.9),
    )
}


def at_the_river(chat: Chat, perform: Perform) -> None:
    """Fishing permit started in words, the name given: at the choice of river."""
    chat.run("I want to go fishing", perform)
    chat.run("Pema Wangmo", perform)
    assert chat.snap.step == "river"


@pytest.fixture
def chat() -> Chat:
    return Chat(small_catalog())


@pytest.fixture
def perform() -> Perform:
    return Perform(meanings=MEANINGS)


def test_a_clear_first_message_starts_its_service(chat: Chat, perform: Perform) -> None:
    chat.run("I want to go fishing", perform)
    assert chat.snap.service == "fishing-permit"
    assert chat.screen == "Your name"
    assert [type(e) for e in perform.performed] == [Understand]
    understood = [e for e in chat.last.events if e["event"] == "understood"]  # type: ignore[union-attr]
    assert understood[0]["intent"] == "fishing-permit"
    assert understood[0]["confidence"] == 0.92
    assert understood[0]["source"] == "test"


def test_a_middling_guess_is_confirmed_first(chat: Chat, perform: Perform) -> None:
    chat.run("fishng prmt", perform)
    assert chat.snap.service is None
    assert chat.snap.state == Suggested("fishing-permit", {})
    assert chat.screen == "Did you mean: Fishing permit?\n1. Yes\n2. No"
    chat.run("1", perform)
    assert chat.snap.service == "fishing-permit"
    assert chat.screen == "Your name"


def test_declining_the_guess_shows_the_menu(chat: Chat, perform: Perform) -> None:
    chat.run("fishng prmt", perform)
    chat.run("no", perform)
    assert chat.snap.state == AtMenu()
    assert chat.screen == MENU


def test_an_affirmation_in_words_answers_the_guess(chat: Chat, perform: Perform) -> None:
    chat.run("fishng prmt", perform)
    chat.run("sure thing", perform)
    assert chat.snap.service == "fishing-permit"


def test_a_first_message_not_understood_shows_the_menu_without_an_error(
    chat: Chat, perform: Perform
) -> None:
    chat.run("qwerty", perform)
    assert chat.screen == MENU


def test_later_text_not_understood_at_the_menu_says_so(chat: Chat, perform: Perform) -> None:
    chat.run("qwerty", perform)
    chat.run("zxcvb", perform)
    assert chat.screen == "Sorry, I did not understand that.\n" + MENU


def test_a_greeting_is_answered_with_the_menu(chat: Chat, perform: Perform) -> None:
    chat.run("kuzuzangpo", perform)
    assert chat.screen == "Kuzuzangpo!\n" + MENU


def test_help_and_status_in_words_at_the_start(chat: Chat, perform: Perform) -> None:
    chat.run("how does this work", perform)
    assert chat.screen.startswith("Reply with your answer or the number of a choice.")
    chat.run("where is my permit", perform)
    assert isinstance(perform.performed[-1], StatusRequest)
    assert chat.last is not None
    assert chat.last.replies[0].text == "You have no applications yet."
    assert chat.screen == MENU


def test_free_text_that_fails_a_step_offers_the_service_asked_for(
    chat: Chat, perform: Perform
) -> None:
    at_the_river(chat, perform)
    assert chat.snap.step == "river"
    chat.run("a pet licence instead", perform)
    assert chat.snap.state == SwitchOffered("pet-licence", {})
    assert chat.screen == (
        "Start Pet licence instead? Your answers here will be lost.\n1. Yes\n2. No"
    )
    chat.run("2", perform)
    after = chat.snap  # a fresh name: mypy would keep the earlier narrowing of chat.snap
    assert (after.service, after.step, after.state) == ("fishing-permit", "river", Asking())
    assert chat.screen.startswith("Which river?")
    chat.run("a pet licence instead", perform)
    chat.run("1", perform)
    assert chat.snap.service == "pet-licence"
    assert chat.screen == "Citizenship ID"
    switched = [e for e in chat.last.events if e["event"] == "switched"]  # type: ignore[union-attr]
    assert switched[0]["to"] == "pet-licence"


def test_cancel_in_words_asks_before_ending(chat: Chat, perform: Perform) -> None:
    at_the_river(chat, perform)
    chat.run("cancel this", perform)
    assert chat.screen == "Do you want to stop this application?\n1. Yes\n2. No"
    chat.run("yes", perform)
    assert chat.snap.ended
    assert chat.screen == "Goodbye. Dial again any time."


def test_help_and_menu_in_words_act_anywhere_a_step_refuses_the_text(
    chat: Chat, perform: Perform
) -> None:
    at_the_river(chat, perform)
    chat.run("how does this work", perform)
    assert chat.screen.startswith("Service help.\nWhich river?")
    chat.run("back to the list of services", perform)
    assert chat.screen == MENU


def test_text_a_step_refuses_and_nobody_understands_gets_the_steps_error(
    chat: Chat, perform: Perform
) -> None:
    at_the_river(chat, perform)
    chat.run("qwerty", perform)
    assert chat.screen.startswith("Please reply with one of the numbers shown.\nWhich river?")
    assert chat.snap.invalid == 1


def test_an_affirmation_answers_a_yes_no_question(chat: Chat, perform: Perform) -> None:
    at_the_river(chat, perform)
    chat.run("3", perform)  # Wang Chhu: asks about a boat
    assert chat.snap.step == "boat"
    chat.run("sure thing", perform)
    assert chat.snap.answers["boat"] is True
    assert chat.snap.step == "days"


def test_an_id_given_up_front_is_confirmed_not_asked(chat: Chat, perform: Perform) -> None:
    chat.run("my dog needs a licence, cid " + CID, perform)
    assert chat.snap.service == "pet-licence"
    assert chat.snap.state == ConfirmingPrefill()
    assert chat.screen == f"Cid: {CID}\nIs that right?\n1. Yes\n2. No"
    chat.run("1", perform)
    assert chat.snap.answers["cid"] == CID
    assert chat.snap.step == "pet"  # the registry lookup ran on the confirmed ID
    assert chat.snap.prefill == {}


def test_refusing_an_answer_given_up_front_asks_the_question(chat: Chat, perform: Perform) -> None:
    chat.run("my dog needs a licence, cid " + CID, perform)
    chat.run("no", perform)
    assert chat.screen == "Citizenship ID"
    assert "cid" not in chat.snap.answers


def test_typing_another_answer_instead_of_confirming_takes_it(chat: Chat, perform: Perform) -> None:
    chat.run("my dog needs a licence, cid " + CID, perform)
    chat.run("10101000001", perform)
    assert chat.snap.answers["cid"] == "10101000001"


def test_an_entity_the_step_refuses_is_not_offered(chat: Chat) -> None:
    perform = Perform(meanings={"pets": meaning("pets", "pet-licence", 0.9, Entity("cid", "12"))})
    chat.run("pets", perform)
    assert chat.snap.state == Asking()
    assert chat.screen == "Citizenship ID"


def test_keypad_answers_and_accepted_text_are_never_classified(
    chat: Chat, perform: Perform
) -> None:
    chat.run("", perform)
    chat.run("1", perform)
    chat.run("Pema Wangmo", perform)  # a name is a name
    chat.run("7", perform)  # refused, but digits mean nothing more
    assert not any(isinstance(e, Understand) for e in perform.performed)


def test_ussd_never_asks_for_a_meaning() -> None:
    chat = Chat(small_catalog(), channel=Medium.USSD)
    perform = Perform(meanings=MEANINGS)
    chat.run("", perform)
    chat.run("I want to go fishing", perform)
    assert perform.performed == []
    assert chat.screen.startswith("Please reply with one of the numbers shown.")


def test_asking_for_a_meaning_changes_nothing_until_it_comes(chat: Chat) -> None:
    chat.send("", service="fishing-permit")
    chat.send("Pema Wangmo")
    before = chat.snap
    outcome = act(chat.catalog, before, chat.inbound("a pet licence instead"))
    assert outcome.snapshot == before
    assert outcome.replies == ()
    assert outcome.events == ()
    assert outcome.effects == (Understand("a pet licence instead", "en"),)
    answered = act(chat.catalog, before, chat.inbound(result=MEANINGS["a pet licence instead"]))
    assert answered.snapshot.state == SwitchOffered("pet-licence", {})


def test_a_meaning_for_an_ended_conversation_is_ignored(chat: Chat, perform: Perform) -> None:
    chat.run("I want to go fishing", perform)
    chat.send("stop")
    outcome = act(chat.catalog, chat.snap, chat.inbound(result=MEANINGS["kuzuzangpo"]))
    assert outcome.snapshot == chat.snap
    assert outcome.replies == ()


def test_answering_the_question_instead_of_the_offer_answers_it(
    chat: Chat, perform: Perform
) -> None:
    at_the_river(chat, perform)
    chat.run("a pet licence instead", perform)
    chat.run("Mo Chhu", perform)  # the river asked before the offer
    assert (chat.snap.service, chat.snap.state) == ("fishing-permit", Asking())
    assert chat.snap.answers["river"] == "mo_chhu"


def test_a_middling_guess_mid_application_is_not_offered(chat: Chat) -> None:
    unsure = meaning("pets maybe", "pet-licence", 0.6)
    perform = Perform(meanings={**MEANINGS, unsure.text: unsure})
    at_the_river(chat, perform)
    chat.run("pets maybe", perform)
    assert chat.snap.state == Asking()
    assert chat.screen.startswith("Please reply with one of the numbers shown.")


@pytest.mark.parametrize(("answer", "step_after"), [("yes", "river"), ("no", "holder")])
def test_continue_question_takes_yes_and_no(chat: Chat, answer: str, step_after: str) -> None:
    chat.send("", service="fishing-permit")
    chat.send("Pema Wangmo")
    redial = replace(chat.inbound(""), resume="ask")
    chat.snapshot = act(chat.catalog, chat.snap, redial).snapshot
    assert chat.snap.state == ResumeOffered()
    chat.send(answer)
    after = chat.snap  # a fresh name: mypy would keep the earlier narrowing of chat.snap
    assert (after.state, after.step) == (Asking(), step_after)


def test_a_yes_in_words_confirms_an_answer_given_up_front(chat: Chat) -> None:
    said = "my dog needs a licence, cid " + CID
    sure = meaning("yes that's right", "affirm", 0.95)
    perform = Perform(meanings={**MEANINGS, sure.text: sure})
    chat.run(said, perform)
    chat.run("yes that's right", perform)
    assert chat.snap.answers["cid"] == CID


def test_leaving_an_offer_by_a_command_forgets_it_and_its_answers(chat: Chat) -> None:
    other = meaning("pet licence for cid 10101000001", "pet-licence", 0.9, Entity("cid", "1" * 11))
    perform = Perform(meanings={**MEANINGS, other.text: other})
    at_the_river(chat, perform)
    chat.run(other.text, perform)
    assert chat.snap.state == SwitchOffered("pet-licence", {"cid": "1" * 11})
    assert chat.snap.prefill == {}  # the fishing permit's own answers are untouched
    chat.run("back", perform)
    after = chat.snap  # a fresh name: mypy would keep the earlier narrowing of chat.snap
    assert (after.state, after.prefill) == (Asking(), {})


@pytest.mark.parametrize("words", ["[]", "[Aide]"])
def test_the_help_intent_needs_no_help_word(words: str) -> None:
    """The service's own help words may be none, or capitalised: help in words still
    shows the help (it once replayed the first help word as a command)."""
    fishing = FISHING_V1.replace("steps:", f"commands: {{help: {words}}}\nsteps:", 1)
    chat = Chat(Catalog.of([compile_yaml(fishing), compile_yaml(PET_LICENCE)]))
    perform = Perform(meanings=MEANINGS)
    at_the_river(chat, perform)
    chat.run("how does this work", perform)
    assert chat.screen.startswith("Service help.\nWhich river?")
