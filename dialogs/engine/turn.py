"""The work of one call to `act`: the draft snapshot, the texts in the citizen's language,
and what the turn says, asks the gateway to do, and records."""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping
from typing import Any

from dialogs.builtin_texts import BUILTIN_TEXTS
from dialogs.catalog import Catalog
from dialogs.compiler import CompiledService, template_for
from dialogs.definition import Commands
from dialogs.media import MORE_KEY, PROFILES
from dialogs.messages import Effect, Inbound, Meaning, Outcome, Reply, ReplyOption
from dialogs.paging import paginate
from dialogs.session import Asking, AtMenu, Draft, Snapshot
from dialogs.steps.base import InputStep, StepContext
from dialogs.text import Text, localise

_NUMBERS = [str(n) for n in range(1, 1000)]


class Turn:
    """One inbound message being acted on: mutable while it runs, never shared.

    `service` is the compiled service the conversation is in (None at the menu); code
    that runs in a service is handed it as a parameter.
    """

    def __init__(self, catalog: Catalog, inbound: Inbound, snapshot: Snapshot | None) -> None:
        self.catalog = catalog
        self.inbound = inbound
        self.profile = PROFILES[inbound.medium]
        self.replies: list[Reply] = []
        self.effects: list[Effect] = []
        self.events: list[dict[str, Any]] = []
        self.service: CompiledService | None = None
        self.draft = (
            snapshot.draft()
            if snapshot is not None
            else Draft(id=inbound.conversation_id, lang=inbound.lang or "en")
        )
        # The classifier's answer to an `Understand` this turn asked for (second pass).
        self.meaning = inbound.result if isinstance(inbound.result, Meaning) else None
        self._at = ""
        self._context: dict[str, Any] | None = None
        self._lang_key: tuple[str, CompiledService | None] | None = None
        self._lang = "en"
        self._step_context: StepContext | None = None
        self._context_key: tuple[Any, ...] = ()

    def outcome(self) -> Outcome:
        return Outcome(
            self.draft.snapshot(), tuple(self.replies), tuple(self.effects), tuple(self.events)
        )

    def end(self) -> None:
        """The conversation is over and waits for nothing: a new message begins another."""
        self.draft.ended = True
        self.draft.state = AtMenu() if self.service is None else Asking()

    @property
    def in_service(self) -> CompiledService:
        """The service a service's state is in: the table (`dialogs.engine.states`) hands
        it to the code of those states. The engine never leaves one at the menu."""
        if self.service is None:
            raise LookupError(f"{self.draft.state} without a service")
        return self.service

    # ------------------------------------------------------------------ texts
    @property
    def lang(self) -> str:
        # USSD screens are GSM-7 in practice: show the English text there. The citizen's
        # choice stays in the snapshot even inside a service not offered in that language.
        lang, service = self.draft.lang, self.service
        if self._lang_key != (lang, service):
            shown = lang
            if not self.profile.unicode or (
                service is not None and lang not in service.definition.languages
            ):
                shown = "en"
            self._lang_key, self._lang = (lang, service), shown
        return self._lang

    def context(self) -> dict[str, Any]:
        # Built once per state of the draft: a step renders several texts from it.
        draft = self.draft
        key = (self.service, draft.answers, draft.submission, self.lang)
        cached = self._context
        if cached is not None and all(map(operator.is_, key, self._context_key)):
            return cached
        self._context_key, self._context = key, self._build_context()
        return self._context

    def _build_context(self) -> dict[str, Any]:
        service = self.service
        return {
            "answers": self.draft.answers,
            "labels": _Labels(self),
            "service": {
                "id": service.id,
                "version": service.version,
                "title": localise(service.definition.title, self.lang),
            }
            if service
            else {},
            "submission": self.draft.submission or {},
            "lang": self.lang,
            "today": self.inbound.now.date().isoformat(),
        }

    def step_context(self) -> StepContext:
        cached = self._step_context
        if cached is not None and cached.answers is self.draft.answers and cached.lang == self.lang:
            return cached
        region = self.service.definition.phone_region if self.service else "BT"
        self._step_context = StepContext(
            lang=self.lang,
            today=self.inbound.now.date(),
            phone_region=region,
            answers=self.draft.answers,
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

    # ------------------------------------------------------------------ output
    def event(self, kind: str, **details: Any) -> None:
        draft = self.draft
        self.events.append(
            {
                "event": kind,
                "service": draft.service,
                "version": draft.version,
                "step": draft.step,
                "channel": self.profile.medium,
                "at": self._at or self._now_iso(),
                **details,
            }
        )

    def _now_iso(self) -> str:
        self._at = self.inbound.now.isoformat()
        return self._at

    def say(self, reply: Reply) -> None:
        """Send `reply`, paged to fit the medium: the page the draft is at."""
        pages = self.pages(reply)
        if reply.end and len(pages) > 1:
            # Nobody can answer "98" after the end: send every part of a closing message.
            self.replies += [
                Reply(p.text, tuple(o for o in p.options if o.key != MORE_KEY), p.link, p.end)
                for p in pages
            ]
            return
        page = min(self.draft.page, len(pages) - 1)
        self.replies.append(pages[page])

    def pages(self, reply: Reply) -> tuple[Reply, ...]:
        return paginate(reply, self.profile, self.builtin("more"))

    def numbered(self, labels: list[str]) -> tuple[ReplyOption, ...]:
        return tuple(map(ReplyOption, _NUMBERS, labels))

    def yes_no_options(self) -> tuple[ReplyOption, ...]:
        return self.numbered([self.builtin("yes"), self.builtin("no")])


class _Labels(Mapping[str, str]):
    """`labels.<step>` in templates: answers as shown to the citizen, computed on use."""

    def __init__(self, turn: Turn) -> None:
        self._turn = turn

    def __getitem__(self, key: str) -> str:
        service, answers = self._turn.service, self._turn.draft.answers
        step = service.steps.get(key) if service else None
        if key not in answers or not isinstance(step, InputStep):
            raise KeyError(key)
        return step.display(answers[key], self._turn.step_context())

    def __iter__(self) -> Iterator[str]:
        return iter(self._turn.draft.answers)

    def __len__(self) -> int:
        return len(self._turn.draft.answers)
