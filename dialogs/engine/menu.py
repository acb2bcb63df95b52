"""The main menu of services: its screen, the list of languages, and answers to both."""

from __future__ import annotations

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.catalog import LANGUAGE_NAMES
from dialogs.engine import navigation, states, status, understanding
from dialogs.engine.reading import pick
from dialogs.engine.turn import Turn
from dialogs.messages import Reply
from dialogs.session import AtMenu, ChoosingLanguage
from dialogs.text import localise

LANGUAGE_KEY = "lang"
STATUS_KEY = "status"


def entries(turn: Turn) -> list[tuple[str, str]]:
    """The menu's items: (key, label), the services first."""
    catalog, lang = turn.catalog, turn.lang
    items = [(s.id, localise(s.definition.title, lang)) for s in catalog.menu()]
    if turn.profile.unicode and len(catalog.languages()) > 1:
        items.append((LANGUAGE_KEY, localise(BUILTIN_TEXTS["language"], lang)))
    items.append((STATUS_KEY, turn.builtin("my_applications")))
    return items


def screen(turn: Turn) -> Reply:
    labels = [label for _, label in entries(turn)]
    return Reply(turn.builtin("menu_title"), turn.numbered(labels))


def languages(turn: Turn) -> Reply:
    names = [LANGUAGE_NAMES.get(code, code) for code in turn.catalog.languages()]
    return Reply(turn.builtin("choose_language"), turn.numbered(names))


def to_menu(turn: Turn) -> None:
    """Leave any service for the menu, forgetting its answers."""
    turn.service = None
    draft = turn.draft
    draft.service, draft.version, draft.step = None, 0, ""
    draft.state, draft.page = AtMenu(), 0
    draft.answers, draft.trail, draft.return_to, draft.submission = {}, (), None, None
    draft.invalid, draft.prefill = 0, {}


def show_menu(turn: Turn, notice: str = "") -> None:
    to_menu(turn)
    states.show(turn, notice)


def answer(turn: Turn, raw: str, *, first: bool = False) -> None:
    """An item of the menu by number or name, else free text for the classifier; `first`:
    the conversation's first message."""
    items = entries(turn)
    index = pick(raw, [label for _, label in items], [key for key, _ in items])
    if index is None:
        meaning = understanding.understood(turn, raw)
        if meaning is not None:
            turn.draft.state = AtMenu()
            understanding.at_menu(turn, meaning, first=first)
        return
    key = items[index][0]
    if key == LANGUAGE_KEY:
        turn.draft.state, turn.draft.page = ChoosingLanguage(), 0
        states.show(turn)
    elif key == STATUS_KEY:
        status.request(turn)
    else:
        service = turn.catalog.get(key)
        if service is not None:  # listed, so published
            navigation.start(turn, service)


def language_answer(turn: Turn, raw: str) -> None:
    codes = turn.catalog.languages()
    index = pick(raw, [LANGUAGE_NAMES.get(code, code) for code in codes], codes)
    if index is None:
        states.show(turn, turn.builtin("bad_choice"))
        return
    turn.draft.lang, turn.draft.state, turn.draft.page = codes[index], AtMenu(), 0
    states.show(turn)
