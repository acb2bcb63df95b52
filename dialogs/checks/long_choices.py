"""W270/W271/E272: choices too long for WhatsApp's list, or for the numbering itself.

A WhatsApp list shows at most 10 rows of 24 characters (`dialogs.media.WHATSAPP_CHOICES`);
beyond that the engine pages the list (a "More" row) and the provider cuts long row titles,
which works but is clumsier. Shared lists (`options_from`: districts, activities) are long
by nature and serve every service, so their length is not warned about; a hand-written
list is, since its author can trim it.
Numbers from 98 up are navigation keys ("98. More"): option 98 could never be chosen.
"""

from __future__ import annotations

from dialogs.loader import Loaded
from dialogs.media import MORE_KEY, WHATSAPP_CHOICES
from dialogs.problems import Problem
from dialogs.steps.choice import ChoiceStep
from dialogs.text import variants

CODES = ("W270", "W271", "E272")

MAX_OPTIONS = int(MORE_KEY) - 1
MAX_ROWS = WHATSAPP_CHOICES.rows
ROW_TITLE = WHATSAPP_CHOICES.row_title


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    problems: list[Problem] = []
    for index, step in enumerate(definition.step_list):
        if not isinstance(step, ChoiceStep):
            continue
        count = len(step.options)
        where: list[str | int] = ["steps", index, "options"]
        if count > MAX_OPTIONS:
            problems.append(
                loaded.at(
                    where,
                    "E272",
                    f"{step.id!r} has {count} options; at most {MAX_OPTIONS} can be numbered "
                    f"({MORE_KEY} means More)",
                    "Split the list into two questions (e.g. a category first).",
                    key=True,
                )
            )
        elif count > MAX_ROWS and not loaded.options_from_list(index):
            problems.append(
                loaded.at(
                    where,
                    "W270",
                    f"{step.id!r} has {count} options; a WhatsApp list shows {MAX_ROWS}, "
                    "so it is split over several lists with a More row",
                    "Keep it to 10 options, or move a long fixed list to services/lists/.",
                    key=True,
                )
            )
        for number, option in enumerate(step.options):
            longest = max(variants(option.label), key=len, default="")
            if len(longest) > ROW_TITLE:
                problems.append(
                    loaded.at(
                        [*where, number, "label"],
                        "W271",
                        f"label {longest!r} is longer than the {ROW_TITLE} characters of a "
                        "WhatsApp list row: it is cut there",
                        f"Keep labels to {ROW_TITLE} characters.",
                    )
                )
    return problems
