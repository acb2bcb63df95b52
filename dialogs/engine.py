"""One conversation step as a pure function: (catalog, snapshot, inbound) -> outcome.

No I/O and no clock: the time comes in the inbound message, lookups and submissions go
out as effects whose results come back as inbound messages. Every behaviour can be tested
without a server, and a snapshot is all that survives between two steps.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping
from typing import Any

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.catalog import LANGUAGE_NAMES, Catalog
from dialogs.compiler import BACK, EDIT, FAIL, NEXT, CompiledService, template_for
from dialogs.definition import Commands
from dialogs.intents import asks, is_sure, prefill_for, wanted_service, yes_or_no
from dialogs.media import BACK_KEY, MORE_KEY, PROFILES
from dialogs.messages import (
    CheckCode,
    CodeChecked,
    CodeSent,
    Effect,
    Inbound,
    LookupRequest,
    LookupResult,
    Meaning,
    Outcome,
    RepeatLimits,
    Reply,
    ReplyOption,
    SendCode,
    StatusRequest,
    StatusResult,
    Submission,
    SubmissionResult,
    Understand,
)
from dialogs.paging import paginate
from dialogs.session import Snapshot
from dialogs.steps import StepBase
from dialogs.steps.base import Accepted, InputStep, StepContext
from dialogs.steps.choice import _fold
from dialogs.steps.end import EndStep
from dialogs.steps.lookup import LookupStep
from dialogs.steps.phone import mobile_number
from dialogs.steps.submit import SubmitStep
from dialogs.steps.summary import CONFIRM, SummaryStep
from dialogs.steps.yes_no import YesNoStep
from dialogs.text import Text, localise

MAX_TRAIL = 60  # steps remembered for "back"; keeps snapshots small on looping services
MAX_AUTO_STEPS = 200  # guard against a definition that loops without asking anything
MAX_ANSWER_CHARS = 2000  # longer input is cut before parsing; no step accepts more
LANGUAGE_KEY = "lang"
STATUS_KEY = "status"
STATUS_MODE = "status"  # waiting for the citizen's applications
CODE_DIGITS = 6


def act(catalog: Catalog, snapshot: Snapshot | None, inbound: Inbound) -> Outcome:
    """Act on one inbound message; the caller stores the snapshot and performs effects."""
    if snapshot is not None and snapshot.ended and inbound.result is not None:
        return Outcome(snapshot)  # a repeated effect result (at-least-once delivery)
    turn = _Turn(catalog, inbound, snapshot)
    if snapshot is None or snapshot.ended:
        turn.begin()
    else:
        turn.resume(snapshot)
    return Outcome(turn.snap, tuple(turn.replies), tuple(turn.effects), tuple(turn.events))


class _Labels(Mapping[str, str]):
    """`labels.<step>` in templates: answers as shown to the citizen, computed on use."""

    def __init__(self, turn: _Turn) -> None:
        self._turn = turn

    def __getitem__(self, key: str) -> str:
        service, answers = self._turn.service, self._turn.snap.answers
        step = service.steps.get(key) if service else None
        if key not in answers or not isinstance(step, InputStep):
            raise KeyError(key)
        return step.display(answers[key], self._turn.step_context())

    def __iter__(self) -> Iterator[str]:
        return iter(self._turn.snap.answers)

    def __len__(self) -> int:
        return len(self._turn.snap.answers)


class _Turn:
    """The work of one call to `act`: mutable while it runs, never shared."""

    def __init__(self, catalog: Catalog, inbound: Inbound, snapshot: Snapshot | None) -> None:
        self.catalog = catalog
        self.inbound = inbound
        self.profile = PROFILES[inbound.medium]
        self.replies: list[Reply] = []
        self.effects: list[Effect] = []
        self.events: list[dict[str, Any]] = []
        self.service: CompiledService | None = None
        self.snap = snapshot or Snapshot(id=inbound.conversation_id, lang=inbound.lang or "en")
        # The classifier's answer to an `Understand` this turn asked for (second pass).
        self.meaning = inbound.result if isinstance(inbound.result, Meaning) else None
        self._at = ""
        self._context: dict[str, Any] | None = None
        self._lang_key: tuple[str, CompiledService | None] | None = None
        self._lang = "en"
        self._step_context: StepContext | None = None
        self._context_key: tuple[Any, ...] = ()

    # ----------------------------------------------------------------- context
    @property
    def lang(self) -> str:
        # USSD screens are GSM-7 in practice: show the English text there. The citizen's
        # choice stays in the snapshot even inside a service not offered in that language.
        lang, service = self.snap.lang, self.service
        if self._lang_key != (lang, service):
            shown = lang
            if not self.profile.unicode or (
                service is not None and lang not in service.definition.languages
            ):
                shown = "en"
            self._lang_key, self._lang = (lang, service), shown
        return self._lang

    def context(self) -> dict[str, Any]:
        # Built once per state of the snapshot: a step renders several texts from it.
        key = (self.service, self.snap.answers, self.snap.submission, self.lang)
        cached = self._context
        if cached is not None and all(map(operator.is_, key, self._context_key)):
            return cached
        self._context_key, self._context = key, self._build_context()
        return self._context

    def _build_context(self) -> dict[str, Any]:
        service = self.service
        return {
            "answers": self.snap.answers,
            "labels": _Labels(self),
            "service": {
                "id": service.id,
                "version": service.version,
                "title": localise(service.definition.title, self.lang),
            }
            if service
            else {},
            "submission": self.snap.submission or {},
            "lang": self.lang,
            "today": self.inbound.now.date().isoformat(),
        }

    def step_context(self) -> StepContext:
        cached = self._step_context
        if cached is not None and cached.answers is self.snap.answers and cached.lang == self.lang:
            return cached
        region = self.service.definition.phone_region if self.service else "BT"
        self._step_context = StepContext(
            lang=self.lang,
            today=self.inbound.now.date(),
            phone_region=region,
            answers=self.snap.answers,
            text=self.text,
        )
        return self._step_context

    def text(self, text: Text | None, extra: Mapping[str, Any] | None = None) -> str:
        source = localise(text, self.lang)
        template = (self.service.templates.get(source) if self.service else None) or (
            template_for(source)
        )
        if template.render_fn is None:
            return source.strip()  # plain text: no context to build
        context = self.context()
        if extra:
            context = {**context, **extra}
        return template.render(context).strip()

    def builtin(self, key: str, extra: Mapping[str, Any] | None = None) -> str:
        text = self.service.builtin(key) if self.service else BUILTIN_TEXTS[key]
        return self.text(text, extra)

    def commands(self) -> Commands:
        return self.service.definition.commands if self.service else self.catalog.commands

    def event(self, kind: str, **details: Any) -> None:
        self.events.append(
            {
                "event": kind,
                "service": self.snap.service,
                "version": self.snap.version,
                "step": self.snap.step,
                "channel": self.profile.medium,
                "at": self._at or self._now_iso(),
                **details,
            }
        )

    def _now_iso(self) -> str:
        self._at = self.inbound.now.isoformat()
        return self._at

    # ----------------------------------------------------------------- output
    def say(self, reply: Reply) -> None:
        pages = paginate(reply, self.profile, self.builtin("more"))
        if reply.end and len(pages) > 1:
            # Nobody can answer "98" after the end: send every part of a closing message.
            self.replies += [
                Reply(p.text, tuple(o for o in p.options if o.key != MORE_KEY), p.link, p.end)
                for p in pages
            ]
            return
        page = min(self.snap.page, len(pages) - 1)
        self.replies.append(pages[page])

    def page_count(self) -> int:
        reply = self.screen()
        return len(paginate(reply, self.profile, self.builtin("more"))) if reply else 1

    def numbered(self, labels: list[str]) -> tuple[ReplyOption, ...]:
        return tuple(map(ReplyOption, _NUMBERS, labels))

    def back_option(self) -> tuple[ReplyOption, ...]:
        if self.profile.show_back and self._back_target() is not None:
            return (ReplyOption(BACK_KEY, self.builtin("back"), nav=True),)
        return ()

    def screen(self) -> Reply | None:
        """The full (unpaged) screen of where the conversation stands."""
        if self.snap.mode == "resume":
            return None
        notice = self.snap.notice
        head = f"{notice}\n" if notice else ""
        if self.snap.mode in ("pick", "switch"):
            return Reply(head + self.offer_question(), self.yes_no_options())
        if self.snap.mode == "phone":
            return Reply(head + self.builtin("verify_number"))
        if self.snap.mode == "code":
            options = self.numbered([self.builtin("send_new_code"), self.builtin("other_number")])
            return Reply(
                head + self.builtin("verify_code", {"phone": self.snap.verifying}), options
            )
        if self.snap.service is None:
            return self.menu_screen(head)
        assert self.service is not None
        current = self.service.steps[self.snap.step]
        if not isinstance(current, InputStep):
            return None
        ctx = self.step_context()
        if self.snap.mode == "prefill":
            value = current.parse(self.snap.prefill.get(current.id, ""), ctx)
            shown = current.display(value.value, ctx) if isinstance(value, Accepted) else ""
            label = self.field_label(current.id)
            text = self.builtin("prefilled", {"label": label, "value": shown})
            return Reply(head + text, self.yes_no_options())
        if self.snap.mode == "edit" and isinstance(current, SummaryStep):
            fields = self.summary_fields(current)
            options = self.numbered([self.field_label(name) for name in fields])
            return Reply(head + self.builtin("choose_field"), options + self.back_option())
        body = self.text(current.prompt)
        if isinstance(current, SummaryStep):
            lines = [
                f"{self.field_label(n)}: {self.display(n)}" for n in self.summary_fields(current)
            ]
            body = "\n".join([body, *lines])
        options = self.numbered([option.label for option in current.choices(ctx)])
        back = self.back_option() if options else ()
        return Reply(head + body, options + back)

    def show(self, notice: str = "", *, keep: bool = False) -> None:
        """Show the current screen, headed by `notice` (an error, help); `keep` shows the
        same notice again, so paging with "98"/"0" turns the pages of the screen shown."""
        if not keep and (notice != self.snap.notice or self.snap.page):
            self.snap = self.snap.evolve(notice=notice, page=0)
        reply = self.screen()
        if reply is not None:
            self.say(reply)
        elif self.snap.notice:  # e.g. help while a submission waits to be retried
            self.say(Reply(self.snap.notice))

    # ----------------------------------------------------------------- menu
    def menu_entries(self) -> list[tuple[str, str]]:
        entries = [(s.id, localise(s.definition.title, self.lang)) for s in self.catalog.menu()]
        if self.profile.unicode and len(self.catalog.languages()) > 1:
            entries.append((LANGUAGE_KEY, localise(BUILTIN_TEXTS["language"], self.lang)))
        entries.append((STATUS_KEY, self.builtin("my_applications")))
        return entries

    def menu_screen(self, head: str) -> Reply:
        if self.snap.mode == "lang":
            names = [LANGUAGE_NAMES.get(code, code) for code in self.catalog.languages()]
            return Reply(head + self.builtin("choose_language"), self.numbered(names))
        labels = [label for _, label in self.menu_entries()]
        return Reply(head + self.builtin("menu_title"), self.numbered(labels))

    def show_menu(self, notice: str = "") -> None:
        self.to_menu()
        self.show(notice)

    def to_menu(self) -> None:
        self.service = None
        self.snap = self.snap.evolve(
            service=None,
            version=0,
            step="",
            mode="menu",
            page=0,
            answers={},
            trail=(),
            return_to=None,
            submission=None,
            invalid=0,
            offer="",
            offered={},
            prefill={},
        )

    def menu_answer(self, raw: str) -> None:
        if self.snap.mode == "lang":
            codes = self.catalog.languages()
            index = _pick(raw, [LANGUAGE_NAMES.get(c, c) for c in codes], codes)
            if index is None:
                self.show(self.builtin("bad_choice"))
                return
            self.snap = self.snap.evolve(lang=codes[index], mode="menu", page=0)
            self.show()
            return
        entries = self.menu_entries()
        index = _pick(raw, [label for _, label in entries], [key for key, _ in entries])
        if index is None:
            meaning = self.understood(raw)
            if meaning is not None:
                first = self.snap.mode == ""  # the conversation's first message
                self.snap = self.snap.evolve(mode="menu")
                self.act_at_menu(meaning, first=first)
        elif entries[index][0] == LANGUAGE_KEY:
            self.snap = self.snap.evolve(mode="lang", page=0)
            self.show()
        elif entries[index][0] == STATUS_KEY:
            self.request_status()
        else:
            service = self.catalog.get(entries[index][0])
            assert service is not None
            self.start(service)

    # ----------------------------------------------------------------- lifecycle
    def begin(self) -> None:
        inbound = self.inbound
        self.snap = Snapshot(
            id=inbound.conversation_id,
            lang=inbound.lang or self.snap.lang,
            started=inbound.now.isoformat(),
        )
        menu = self.catalog.menu()
        chosen = self.catalog.get(inbound.service) if inbound.service else None
        if chosen is None and len(menu) == 1:
            chosen = menu[0]
        if chosen is not None:
            self.start(chosen)
        elif not menu:
            self.say(Reply(self.builtin("no_services"), end=True))
            self.snap = self.snap.evolve(ended=True)
        else:
            self.to_menu()
            raw = _clean(inbound.text) if self.profile.free_text else ""
            if not raw or (raw.isascii() and raw.isdigit()):
                self.show()  # a dial, or an answer to a menu long gone: the menu
            elif not self.command(raw):
                # "I want to register my shop": nothing shown yet (mode "" marks that
                # until the classifier's answer comes back in this turn).
                self.snap = self.snap.evolve(mode="")
                self.menu_answer(raw)

    def start(self, service: CompiledService, prefill: dict[str, str] | None = None) -> None:
        self.service = service
        self.snap = self.snap.evolve(
            service=service.id,
            version=service.version,
            answers={},
            trail=(),
            mode="",
            page=0,
            submission=None,
            return_to=None,
            invalid=0,
            ended=False,
            rewound=False,
            run=self.snap.run + 1,
            offer="",
            offered={},
            prefill=prefill or {},
        )
        self.snap = self.snap.evolve(step=service.start)
        self.event("started")
        self.enter(service.start)

    def resume(self, snapshot: Snapshot) -> None:
        self.snap = snapshot
        if snapshot.service is not None:
            self.service = self.catalog.get(snapshot.service, snapshot.version)
            if self.service is None or snapshot.step not in self.service.steps:
                # The pinned version was withdrawn: start the published one afresh.
                service = self.catalog.get(snapshot.service)
                if service is None:
                    self.begin()
                else:
                    self.start(service)
                return
        if self.meaning is not None:
            raw = _clean(self.meaning.text)  # the message the classifier was asked about
        elif self.inbound.result is not None:
            if snapshot.mode == STATUS_MODE and isinstance(self.inbound.result, StatusResult):
                self.status_result(self.inbound.result)
            elif snapshot.mode in ("phone", "code") and isinstance(
                self.inbound.result, CodeSent | CodeChecked
            ):
                self.verification_result(self.inbound.result)
            elif snapshot.mode == "awaiting" and isinstance(
                self.inbound.result, LookupResult | SubmissionResult
            ):
                self.effect_result(self.inbound.result)
            return  # a late or repeated result for a step already left: nothing to do
        elif self.inbound.resume and self._in_progress():
            self.offer_resume()
            return
        else:
            raw = self.inbound.choice if self.inbound.choice is not None else self.inbound.text
            raw = _clean(raw)
        if self.command(raw):
            if self.snap.offer and self.snap.mode not in ("pick", "switch"):
                self.snap = self.snap.evolve(offer="", offered={})  # left by back, status...
            return
        if snapshot.mode == "resume":
            self.resume_answer(raw)
        elif snapshot.mode in ("pick", "switch"):
            self.offer_answer(raw)
        elif snapshot.mode == "prefill":
            self.prefill_answer(raw)
        elif snapshot.mode == "phone":
            self.number_answer(raw)
        elif snapshot.mode == "code":
            self.code_answer(raw)
        elif snapshot.mode == "awaiting":
            self.enter(snapshot.step)  # e.g. a submission failed: try it again
        elif self.snap.service is None:
            self.menu_answer(raw)
        else:
            self.answer(raw)

    # ----------------------------------------------------------------- resuming
    def _in_progress(self) -> bool:
        return self.service is not None and bool(self.snap.trail or self.snap.answers)

    def offer_resume(self) -> None:
        """A new dial (`ask`) or another channel (`say`) reaching a conversation in flight."""
        assert self.service is not None
        if self.inbound.resume == "say":
            self.event("resumed", how="channel")
            if self.snap.mode in ("awaiting", "resume"):
                self.snap = self.snap.evolve(mode="")
                self.say(Reply(self.builtin("resumed")))
                self.enter(self.snap.step)
            else:
                self.show(self.builtin("resumed"))
            return
        self.snap = self.snap.evolve(mode="resume", page=0, notice="")
        self.event("resume_offered")
        self.show_resume()

    def show_resume(self, notice: str = "") -> None:
        head = f"{notice}\n" if notice else ""
        options = self.numbered([self.builtin("continue"), self.builtin("start_again")])
        self.say(Reply(head + self.builtin("resume_question"), options))

    def resume_answer(self, raw: str) -> None:
        assert self.service is not None
        labels = [self.builtin("continue"), self.builtin("start_again")]
        choice = _pick(raw, labels, ["continue", "restart"])
        if choice is None and (yes := yes_or_no(raw)) is not None:
            choice = 0 if yes else 1  # "Continue?" answered "yes" / "no"
        if choice is None:
            self.show_resume(self.builtin("bad_choice"))
        elif choice == 0:
            self.event("resumed", how="dial")
            self.snap = self.snap.evolve(mode="")
            current = self.service.steps[self.snap.step]
            if current.kind == "effect":
                self.enter(self.snap.step)  # e.g. a submission to try again
            else:
                self.show()
        else:
            published = self.catalog.get(self.service.id) or self.service
            self.event("restarted")
            self.start(published)

    # ----------------------------------------------------------------- commands
    def command(self, raw: str) -> bool:
        word = raw.casefold()
        commands = self.commands()
        if word in commands.more and self.snap.page + 1 < self.page_count():
            self.snap = self.snap.evolve(page=self.snap.page + 1)
            self.show(keep=True)
        elif word in commands.back:
            self.back()
        elif word in commands.menu and len(self.catalog.menu()) > 1:
            self.event("left")
            self.show_menu()
        elif word in commands.menu or word in commands.restart:
            menu = self.catalog.menu()
            published = self.catalog.get(self.service.id) if self.service else None
            service = published or (menu[0] if menu else None)
            if service is None:
                self.begin()
            else:
                self.event("restarted")
                self.start(service)
        elif word in commands.help:
            self.show_help()
        elif word in commands.status:
            self.request_status()
        elif word in commands.stop:
            self.stop()
        else:
            return False
        return True

    def show_help(self) -> None:
        """The step's help, else the service's, else the built-in one, above the screen."""
        current = self.service.steps.get(self.snap.step) if self.service else None
        text = getattr(current, "help", None) or (
            self.service.definition.help if self.service else None
        )
        self.show(self.text(text) if text else self.builtin("help"))

    # ----------------------------------------------------------------- status
    def request_status(self) -> None:
        """Ask the gateway for the citizen's applications (anywhere: a menu item, a word)."""
        self.snap = self.snap.evolve(mode=STATUS_MODE, page=0)
        self.effects.append(StatusRequest())

    def status_result(self, result: StatusResult) -> None:
        if not result.ok:
            text = self.builtin("unavailable")
        elif not result.applications:
            text = self.builtin("no_applications")
        else:
            lines = [self.builtin("applications")]
            for item in result.applications:
                service = self.catalog.get(item.service)
                title = localise(service.definition.title, self.lang) if service else item.service
                state = self.builtin(f"status_{item.status}") if item.status else ""
                lines.append(f"{item.reference} {title}: {state}")
            text = "\n".join(lines)
        if self.profile.medium == "ussd":
            # A USSD screen cannot list and go on: the list is the session's last screen.
            self.say(Reply(text, end=True))
            self.snap = self.snap.evolve(ended=True, mode="")
            return
        self.say(Reply(text))
        if self.service is None:
            self.snap = self.snap.evolve(mode="menu")
            self.show_menu()
        elif self.service.steps[self.snap.step].kind == "effect":
            # Asked while a lookup or submission waited (for a number to be proved, or
            # to be tried again): arrive at it again.
            self.snap = self.snap.evolve(mode="")
            self.enter(self.snap.step, revisit=False)
        else:
            self.snap = self.snap.evolve(mode="")
            self.show()

    # ----------------------------------------------------------------- free text
    def understood(self, raw: str) -> Meaning | None:
        """What free text asks for. None: an `Understand` effect was queued and the turn
        must stop here unchanged; it runs again with the classifier's answer."""
        if self.meaning is not None:
            return self.meaning
        if not self.profile.free_text or not raw or (raw.isascii() and raw.isdigit()):
            return Meaning(raw)  # a keypad answer: nothing to understand
        self.effects.append(Understand(raw, self.snap.lang))
        return None

    def noted(self, meaning: Meaning) -> None:
        if meaning.source:  # classified, not a keypad answer
            self.event(
                "understood",
                intent=meaning.intent,
                confidence=round(meaning.confidence, 2),
                source=meaning.source,
            )

    def act_at_menu(self, meaning: Meaning, *, first: bool) -> None:
        """The first message, or free text at the menu: start what was asked for."""
        self.noted(meaning)
        service = wanted_service(self.catalog, meaning)
        if service is not None:
            prefill = prefill_for(service, meaning.entities)
            if is_sure(meaning):
                self.start(service, prefill)
            else:
                self.snap = self.snap.evolve(mode="pick", offer=service.id, offered=prefill)
                self.show()
        elif asks(meaning, "help"):
            self.show(self.builtin("help"))
        elif asks(meaning, "status"):
            self.request_status()
        elif asks(meaning, "stop", sure=True):
            self.stop()
        elif asks(meaning, "greet") or asks(meaning, "menu") or first:
            self.show(self.builtin("greeting") if asks(meaning, "greet") else "")
        else:  # free text nobody understood, or a keypad answer that is not on the menu
            self.show(self.builtin("not_understood" if meaning.source else "bad_choice"))

    def act_in_service(self, meaning: Meaning) -> bool:
        """Free text that fails a step but asks for something else; False: it did not."""
        assert self.service is not None
        self.noted(meaning)
        service = wanted_service(self.catalog, meaning) if is_sure(meaning) else None
        if service is not None and service.id != self.service.id:
            # Only a clear request: a wrong guess here would interrupt an application.
            offered = prefill_for(service, meaning.entities)  # kept apart: not this service's
            self.snap = self.snap.evolve(
                mode="switch", offer=service.id, offered=offered, page=0, notice=""
            )
        elif asks(meaning, "stop"):
            self.snap = self.snap.evolve(mode="switch", offer="stop", page=0, notice="")
        elif asks(meaning, "help", sure=True):
            self.show_help()
            return True
        elif asks(meaning, "status", sure=True):
            self.request_status()
            return True
        elif asks(meaning, "menu", sure=True) and len(self.catalog.menu()) > 1:
            self.event("left")
            self.show_menu()
            return True
        else:
            return False
        self.show()
        return True

    def offer_question(self) -> str:
        if self.snap.offer == "stop":
            return self.builtin("confirm_stop")
        service = self.catalog.get(self.snap.offer)
        title = localise(service.definition.title, self.lang) if service else self.snap.offer
        key = "did_you_mean" if self.snap.mode == "pick" else "switch_service"
        return self.builtin(key, {"title": title})

    def yes_no_options(self) -> tuple[ReplyOption, ...]:
        return self.numbered([self.builtin("yes"), self.builtin("no")])

    def offer_answer(self, raw: str) -> None:
        """Yes or no to "Did you mean...?" (at the menu) or "Start ... instead?"."""
        yes = yes_or_no(raw, self.meaning)
        if yes is None and self.meaning is None and self.profile.free_text:
            if self.understood(raw) is None:
                return  # "sure, go ahead": ask the classifier
            yes = yes_or_no(raw, self.meaning)
        offer, offered = self.snap.offer, self.snap.offered
        self.snap = self.snap.evolve(offer="", offered={}, mode="menu" if not self.service else "")
        if yes is None:  # neither: an answer to the menu or the question, as if not asked
            if self.service is None:
                self.menu_answer(raw)
            else:
                self.answer(raw)
            return
        service = self.catalog.get(offer) if offer != "stop" else None
        if not yes:
            self.show()  # the menu, or the question the citizen was at
        elif offer == "stop":
            self.stop()
        elif service is None:
            self.show_menu()  # withdrawn meanwhile
        else:
            if self.service is not None:
                self.event("switched", to=service.id)
            self.start(service, offered)

    def _prefill_fits(self, current: StepBase) -> bool:
        if not isinstance(current, InputStep):
            return False
        raw = self.snap.prefill.get(current.id, "")
        return isinstance(current.parse(raw, self.step_context()), Accepted)

    def prefill_answer(self, raw: str) -> None:
        """Yes to "Citizenship ID: 11512000123. Is that right?" saves it; no asks the
        question; anything else is taken as the answer itself."""
        assert self.service is not None
        current = self.service.steps[self.snap.step]
        assert isinstance(current, InputStep)
        yes = yes_or_no(raw, self.meaning)
        typed = isinstance(current.parse(raw, self.step_context()), Accepted)  # the answer
        if yes is None and self.meaning is None and not typed:
            if self.understood(raw) is None:
                return  # "yes that's right": ask the classifier, change nothing yet
            yes = yes_or_no(raw, self.meaning)
        prefill = dict(self.snap.prefill)
        given = prefill.pop(current.id, "")
        self.snap = self.snap.evolve(mode="", prefill=prefill)
        if yes is None:
            self.answer(raw)
        elif not yes:
            self.show()
        else:
            parsed = current.parse(given, self.step_context())
            assert isinstance(parsed, Accepted)  # checked on arrival
            self.snap = self.snap.evolve(answers={**self.snap.answers, current.id: parsed.value})
            self.event("answered", prefilled=True)
            self.advance(current.id, NEXT)

    def stop(self) -> None:
        self.event("stopped")
        self.say(Reply(self.builtin("goodbye"), end=True))
        self.snap = self.snap.evolve(ended=True, mode="", offer="", offered={}, prefill={})

    def _back_target(self) -> str | None:
        service = self.service
        if service is None:
            return None
        for name in reversed(self.snap.trail):
            if service.steps[name].kind == "input":
                return name
        return None

    def back(self) -> None:
        if self.snap.page > 0:
            self.snap = self.snap.evolve(page=self.snap.page - 1)
            self.show(keep=True)
            return
        if self.snap.mode == "edit":
            self.snap = self.snap.evolve(mode="", page=0)
            self.show()
            return
        target = self._back_target()
        if target is None or self.service is None:
            if self.snap.service is None and self.snap.mode == "lang":
                self.snap = self.snap.evolve(mode="menu", page=0)
            self.show()
            return
        trail = self.snap.trail
        cut = len(trail) - 1 - trail[::-1].index(target)
        moved = self.service.fire(BACK, self.snap.step, self.context(), target=target)
        self.snap = self.snap.evolve(
            trail=trail[:cut],
            step=moved or target,
            page=0,
            mode="",
            return_to=None if target == self.snap.return_to else self.snap.return_to,
            invalid=0,
            rewound=True,
        )
        self.event("back", to=target)
        self.show()

    # ----------------------------------------------------------------- answers
    def answer(self, raw: str) -> None:
        assert self.service is not None
        current = self.service.steps[self.snap.step]
        assert isinstance(current, InputStep)
        if self.snap.mode == "edit" and isinstance(current, SummaryStep):
            self.edit_choice(current, raw)
            return
        parsed = current.parse(raw, self.step_context())
        if not isinstance(parsed, Accepted):
            meaning = self.understood(raw)
            if meaning is None:
                return  # asked the classifier; this turn goes on with its answer
            if self.act_in_service(meaning):
                return
            if isinstance(current, YesNoStep):
                yes = yes_or_no("", meaning)  # "sure, go ahead"
                parsed = Accepted(yes) if yes is not None else parsed
        if not isinstance(parsed, Accepted):
            self.snap = self.snap.evolve(invalid=self.snap.invalid + 1, page=0)
            self.event("invalid", reason=parsed.reason)
            message = (
                self.text(current.error)
                if current.error
                else self.builtin(parsed.reason, parsed.params)
            )
            self.show(message)
            return
        if isinstance(current, SummaryStep) and parsed.value != CONFIRM:
            self.snap = self.snap.evolve(mode="edit", page=0)
            self.show()
            return
        if current.answer_is_saved():
            self.snap = self.snap.evolve(answers={**self.snap.answers, current.id: parsed.value})
        self.event("answered")
        self.advance(current.id, NEXT)

    def edit_choice(self, summary: SummaryStep, raw: str) -> None:
        assert self.service is not None
        fields = self.summary_fields(summary)
        index = _pick(raw, [self.field_label(n) for n in fields], fields)
        if index is None:
            self.show(self.builtin("bad_choice"))
            return
        target = self.service.fire(EDIT, summary.id, self.context(), target=fields[index])
        self.snap = self.snap.evolve(
            trail=self._trail(summary.id), return_to=summary.id, mode="", page=0, rewound=True
        )
        self.event("edit", to=fields[index])
        self.enter(target or fields[index], revisit=False)

    def advance(self, source: str, trigger: str) -> None:
        assert self.service is not None
        target = self.service.fire(trigger, source, self.context())
        self.snap = self.snap.evolve(trail=self._trail(source))
        if target is None:  # the checker rejects definitions where this can happen
            self.say(Reply(self.builtin("unavailable"), end=True))
            self.snap = self.snap.evolve(ended=True)
            return
        self.enter(target)

    def _trail(self, name: str) -> tuple[str, ...]:
        return (*self.snap.trail, name)[-MAX_TRAIL:]

    def enter(self, name: str, *, revisit: bool = True) -> None:
        """Arrive at a step; automatic steps run on until one waits for the citizen."""
        service = self.service
        assert service is not None
        skipped: set[str] = set()
        for _ in range(MAX_AUTO_STEPS):
            current = service.steps[name]
            looped = not self.snap.rewound and name in self.snap.trail
            self.snap = self.snap.evolve(
                step=name, page=0, invalid=0, mode="", rewound=self.snap.rewound or looped
            )
            if self.snap.return_to == name:
                self.snap = self.snap.evolve(return_to=None)
            elif (
                self.snap.return_to
                and revisit
                and name not in skipped
                and self._already_done(current)
            ):
                # Changing one answer from the summary: walk on past what is answered,
                # so a changed branch asks its new questions and nothing else. A step met
                # twice on this walk is a loop back (e.g. "end date before start date"):
                # it is asked again.
                skipped.add(name)
                self.snap = self.snap.evolve(trail=self._trail(name))
                next_name = service.fire(NEXT, name, self.context())
                if next_name is None:
                    break
                name = next_name
                continue
            revisit = True
            if current.needs_proven_number() and self.number_unproved():
                self.ask_number()  # on the web chat or Telegram: prove a number first
            elif isinstance(current, EndStep):
                self.finish(current)
            elif isinstance(current, LookupStep | SubmitStep):
                self.snap = self.snap.evolve(mode="awaiting")
                self.effects.append(self.effect(current))
            else:
                if isinstance(current, SummaryStep | SubmitStep):
                    self.prune_answers()
                if name in self.snap.prefill and self._prefill_fits(current):
                    self.snap = self.snap.evolve(mode="prefill")
                self.show()
            return
        self.say(Reply(self.builtin("unavailable"), end=True))
        self.snap = self.snap.evolve(ended=True)

    def _already_done(self, current: StepBase) -> bool:
        if isinstance(current, InputStep) and current.answer_is_saved():
            return current.id in self.snap.answers
        return current.kind == "input" and current.id in self.snap.trail

    def finish(self, current: EndStep) -> None:
        submission = self.snap.submission or {}
        text = self.text(current.prompt)
        if submission.get("held"):  # opted out: the link waits for START
            text = f"{text}\n{self.builtin('link_held')}"
        self.say(Reply(text, link=submission.get("link"), end=True))
        self.snap = self.snap.evolve(ended=True)
        self.event("completed")

    # ----------------------------------------------------------------- effects
    def effect(self, current: LookupStep | SubmitStep) -> Effect:
        assert self.service is not None
        context = self.context()
        if isinstance(current, LookupStep):
            return LookupRequest(
                step=current.id,
                method=current.method,
                url=self.service.render_url(current.url, context),
                query={k: self.service.render(v, "en", context) for k, v in current.query.items()},
                body={k: self.service.render(v, "en", context) for k, v in current.body.items()}
                if current.body is not None
                else None,
                headers=dict(current.headers),
                timeout=current.timeout,
            )
        self.prune_answers(force=True)
        answers = self.snap.answers
        if current.fields is not None:
            answers = {k: v for k, v in answers.items() if k in current.fields}
        document = None
        if current.document is not None:
            doc = current.document
            document = {
                "title": self.text(doc.title),
                "issuer": self.text(doc.issuer),
                "holder": self.service.render(doc.holder, self.lang, context)
                if doc.holder in self.service.templates
                else self.text(doc.holder),
                "fields": [
                    {"label": self.field_label(n), "value": self.display(n)}
                    for n in doc.fields
                    if n in self.snap.answers
                ],
            }
        # An instant document rests on a registry's word for who applies (the checker
        # refuses definitions that could get here without it): otherwise, an officer.
        confirmed = any(
            step.vouches_for_applicant() and step.id in self.snap.answers
            for step in self.service.steps.values()
        )
        mode = current.mode
        flags: tuple[str, ...] = ()
        if mode == "instant" and current.assurance == "registry" and not confirmed:
            mode, flags = "review", ("identity_unconfirmed",)
        return Submission(
            step=current.id,
            service=self.service.id,
            version=self.service.version,
            idempotency_key=f"{self.snap.id}:{self.service.id}:{self.snap.run}:{current.id}",
            mode=mode,
            reference_prefix=current.reference_prefix,
            answers=dict(answers),
            document=document,
            applicant_id=self.applicant_id(current),
            phone=self.proven_phone(),
            assurance="registry" if confirmed else "self-declared",
            flags=flags,
            limits=RepeatLimits(
                current.limits.per_id, current.limits.per_phone, current.limits.days
            ),
        )

    def effect_result(self, result: LookupResult | SubmissionResult) -> None:
        assert self.service is not None
        current = self.service.steps[self.snap.step]
        if isinstance(current, LookupStep) and isinstance(result, LookupResult):
            answers = dict(self.snap.answers)
            kept = current.keep(result.data) if result.ok else None
            found = kept is not None
            if kept is not None and not current.confirms(result.data, self.proven_phone()):
                kept = None
            if kept is not None and current.registered_phone is not None:
                kept.pop(current.registered_phone, None)  # checked: not kept
            if kept is not None:
                answers[current.id] = kept
            else:
                answers.pop(current.id, None)
            self.snap = self.snap.evolve(answers=answers, mode="")
            if found and kept is None:  # found, but registered to another number
                self.event("lookup", ok=False, reason="identity_mismatch")
            else:
                self.event("lookup", ok=kept is not None)
            self.advance(current.id, NEXT if kept is not None else FAIL)
        elif isinstance(current, SubmitStep) and isinstance(result, SubmissionResult):
            if result.refused:  # too many applications lately: trying again cannot help
                self.event("submit_refused", reason=result.refused)
                self.say(Reply(self.builtin("application_limit"), end=True))
                self.snap = self.snap.evolve(ended=True, mode="")
                return
            if not result.ok:
                text = self.text(current.wait) if current.wait else self.builtin("unavailable")
                self.say(Reply(text))
                self.event("submit_failed")
                return
            submission: dict[str, Any] = {
                "reference": result.reference,
                "status": result.status,
                "link": result.link,
            }
            if result.held:
                submission["held"] = True
            self.snap = self.snap.evolve(submission=submission, mode="")
            self.event("submitted", reference=result.reference)
            self.advance(current.id, NEXT)

    # ----------------------------------------------------------------- proving a number
    def proven_phone(self) -> str | None:
        """The number this citizen is known to hold: the operator's, or one proved by a
        code (now or in an earlier conversation); None on the web chat or Telegram
        before a code was checked."""
        if self.profile.proves_number:
            return self.inbound.phone
        return self.snap.phone or self.inbound.phone or None

    def number_unproved(self) -> bool:
        """Whether a number must be proved by a code before going on: on a channel whose
        operator gives none (web chat, Telegram), until a code was checked."""
        return not self.profile.proves_number and not self.proven_phone()

    def ask_number(self) -> None:
        """Ask for a mobile number to send a code to; the step waits (snap.step)."""
        self.snap = self.snap.evolve(mode="phone", verifying="", page=0, notice="")
        self.event("verification_asked")
        self.show()

    def number_answer(self, raw: str) -> None:
        assert self.service is not None
        number = mobile_number(raw, self.service.definition.phone_region)
        if isinstance(number, str):
            self.snap = self.snap.evolve(verifying=number)
            self.effects.append(SendCode(number, self.lang))
        else:
            self.show(self.builtin(number.reason, number.params))

    def code_answer(self, raw: str) -> None:
        code = "".join(c for c in raw if c not in " -")
        if code.isascii() and code.isdigit() and len(code) == CODE_DIGITS:
            self.effects.append(CheckCode(self.snap.verifying, code))  # "000001" is a code
            return
        labels = [self.builtin("send_new_code"), self.builtin("other_number")]
        choice = _pick(raw, labels, ["resend", "change"])
        if choice == 0:
            self.effects.append(SendCode(self.snap.verifying, self.lang))
        elif choice == 1:
            self.snap = self.snap.evolve(mode="phone", verifying="", page=0)
            self.show()
        else:
            self.show(self.builtin("bad_code"))

    def verification_result(self, result: CodeSent | CodeChecked) -> None:
        if isinstance(result, CodeSent):
            if result.ok:
                again = self.snap.mode == "code"
                self.snap = self.snap.evolve(mode="code", page=0)
                self.show(self.builtin("code_sent_again") if again else "")
                return
            notice = {
                "too_many": "codes_too_many",
                "not_allowed": "number_not_allowed",
            }.get(result.reason, "codes_unavailable")
            self.snap = self.snap.evolve(mode="phone", verifying="", page=0)
            self.event("verification_failed", reason=result.reason or "unavailable")
            self.show(self.builtin(notice))
            return
        if not result.ok:
            self.event("verification_failed", reason=result.reason)
            if result.reason == "wrong" and result.tries_left > 0:
                self.show(self.builtin("code_wrong", {"tries": result.tries_left}))
            else:
                self.show(self.builtin("code_expired"))
            return
        self.snap = self.snap.evolve(phone=self.snap.verifying, verifying="", mode="", page=0)
        self.event("verified")
        self.say(Reply(self.builtin("verified")))
        self.enter(self.snap.step, revisit=False)

    def applicant_id(self, submit: SubmitStep) -> str | None:
        """The applicant's citizenship ID: the submit step's `applicant_id` answer, else
        the first answered step that asks for one."""
        assert self.service is not None
        answers = self.snap.answers
        if submit.applicant_id is not None:
            value = answers.get(submit.applicant_id)
            return str(value) if value is not None else None
        for name in self.service.order:
            step = self.service.steps[name]
            if isinstance(step, InputStep) and step.entity() == "cid" and name in answers:
                return str(answers[name])
        return None

    # ----------------------------------------------------------------- answers shown
    def summary_fields(self, summary: SummaryStep) -> list[str]:
        assert self.service is not None
        names = self.service.edit_targets.get(summary.id, ())
        return [n for n in names if n in self.snap.answers]

    def field_label(self, name: str) -> str:
        assert self.service is not None
        current = self.service.steps[name]
        label = getattr(current, "label", None)
        return self.text(label) if label else name.replace("_", " ").capitalize()

    def display(self, name: str) -> str:
        assert self.service is not None
        current = self.service.steps[name]
        value = self.snap.answers.get(name)
        if isinstance(current, InputStep):
            return current.display(value, self.step_context())
        return "" if value is None else str(value)

    def prune_answers(self, *, force: bool = False) -> None:
        """Forget answers of steps no longer on the path (a branch changed after "back")."""
        assert self.service is not None
        if not self.snap.rewound and not force:
            return  # answers only leave the path after back, a change or a loop
        path = self.path()
        answers = {k: v for k, v in self.snap.answers.items() if k in path}
        if len(answers) != len(self.snap.answers):
            self.snap = self.snap.evolve(answers=answers)

    def path(self) -> set[str]:
        """Steps on the way from the start to the current step, given the answers."""
        service = self.service
        assert service is not None
        seen: set[str] = set()
        name: str | None = service.start
        context = self.context()
        while name is not None and name not in seen and name != self.snap.step:
            seen.add(name)
            current = service.steps[name]
            failed = isinstance(current, LookupStep) and name not in self.snap.answers
            name = service.fire(FAIL if failed else NEXT, name, context)
        return seen


_NUMBERS = [str(n) for n in range(1, 1000)]


def _clean(raw: str) -> str:
    # Control characters and absurd lengths never reach a step's parser.
    text = raw[:MAX_ANSWER_CHARS].encode("utf-8", "replace").decode("utf-8")
    return "".join(c if c.isprintable() or c in "\n\t" else " " for c in text).strip()


def _pick(raw: str, labels: list[str], keys: list[str]) -> int | None:
    """Index chosen by number, key or (folded) label; None when nothing matches."""
    if raw.isascii() and raw.isdigit():
        index = int(raw) - 1
        return index if 0 <= index < len(labels) else None
    folded = _fold(raw)
    for index, (label, key) in enumerate(zip(labels, keys, strict=True)):
        if folded and folded in (_fold(label), _fold(key)):
            return index
    return None
