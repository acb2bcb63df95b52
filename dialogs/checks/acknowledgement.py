"""W401: on USSD, the acknowledgement of a `mode: review` submit would not be seen.

After a submission that goes to an officer the engine says the acknowledgement (the
step's `acknowledgement`, else the built-in `review_received` when the next step does not
show the submission, e.g. `{{ submission.reference }}`) above the next step's screen.
USSD shows one screen of 182 characters: when the two do not fit together the newest,
the next step's, is kept, and the citizen never learns the reference. Sized in the worst
case, in English (USSD shows English), with the next step's text alone (its options
would only add to it).
"""

from __future__ import annotations

from dialogs.checks._flow import edges
from dialogs.checks._worst import builtin, filler, worst
from dialogs.gsm import USSD_MAX_SEPTETS, septets, to_gsm
from dialogs.loader import Loaded
from dialogs.media import PROFILES, Medium
from dialogs.messages import Reply
from dialogs.paging import fits
from dialogs.problems import Problem
from dialogs.render import renderer_for
from dialogs.steps.effect import shows_submission
from dialogs.steps.submit import SubmitStep
from dialogs.text import Text

CODES = ("W401",)

USSD = PROFILES[Medium.USSD]
LANG = "en"  # USSD shows the English text (GSM-7)


def run(loaded: Loaded) -> list[Problem]:
    definition = loaded.definition
    assert definition is not None
    steps = definition.step_list
    fill = filler(definition, LANG)
    problems: list[Problem] = []
    for edge in edges(definition):
        submit, following = steps[edge.source], steps[edge.target]
        # A check about the submit step's own fields: it filters on that type.
        if edge.kind != "next" or not isinstance(submit, SubmitStep) or submit.mode != "review":
            continue
        acknowledgement: Text | None = submit.acknowledgement
        if acknowledgement is None:
            if shows_submission(following.message()):
                continue  # the next step is the acknowledgement: nothing is said above it
            acknowledgement = builtin(definition, "review_received")
        said = worst(acknowledgement, LANG, fill)
        shown = worst(following.message(), LANG, fill)
        screen = Reply(f"{said}\n{shown}" if shown else said, end=following.kind == "final")
        if fits(screen, USSD):
            continue
        size = septets(to_gsm(renderer_for(Medium.USSD).render(screen).text))
        field = "acknowledgement" if submit.acknowledgement is not None else None
        problems.append(
            loaded.at(
                ["steps", edge.source, *([field] if field else [])],
                "W401",
                f"on USSD the acknowledgement of {submit.id!r} above {following.id!r} "
                f"needs {size} characters (limit {USSD_MAX_SEPTETS}): only "
                f"{following.id!r} would be shown, without the reference",
                f"Show `{{{{ submission.reference }}}}` in {following.id!r} (the built-in "
                "acknowledgement is then left out), or shorten the two texts.",
            )
        )
    return problems
