"""Measure a classifier against a labelled set of messages.

The set is a YAML list of cases, e.g.::

    - {text: "reg biz", intent: business-registration, lang: en}
    - {text: "Pema Wangmo", intent: null}   # must not be understood
    - {text: "drone over paro", intent: drone-flight-authorization,
       entities: {dzongkhags: paro}}

A case is correct when the predicted intent equals the expected one, a prediction below
the engine's `UNDERSTOOD` threshold counting as no intent (None). Entities, when a case
lists them, are reported separately and do not change intent accuracy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dialogs.messages import Meaning

UNDERSTOOD = 0.5  # the engine's threshold: below it a message is not understood
NONE_LABEL = "(none)"  # how "not understood" shows in the table
_NONE_WORDS = {"none", "null", "~", ""}


@dataclass(frozen=True)
class EvalCase:
    """One labelled message. `intent` None: the message should not be understood."""

    text: str
    intent: str | None
    lang: str = "en"
    entities: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """A case and what the classifier made of it."""

    case: EvalCase
    predicted: str | None
    confidence: float
    entities: dict[str, str]

    @property
    def correct(self) -> bool:
        return self.predicted == self.case.intent

    @property
    def entities_correct(self) -> bool:
        return all(self.entities.get(k) == v for k, v in self.case.entities.items())


@dataclass(frozen=True)
class IntentScore:
    intent: str  # NONE_LABEL for "not understood"
    precision: float
    recall: float
    support: int  # cases expecting this intent
    predicted: int  # cases predicted as this intent


@dataclass(frozen=True)
class Report:
    outcomes: list[Outcome]

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def correct(self) -> int:
        return sum(outcome.correct for outcome in self.outcomes)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.outcomes else 0.0

    @property
    def misclassified(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.correct]

    @property
    def entity_accuracy(self) -> float | None:
        """Share of the cases listing entities whose entities were all found; None when
        no case lists any."""
        with_entities = [o for o in self.outcomes if o.case.entities]
        if not with_entities:
            return None
        return sum(o.entities_correct for o in with_entities) / len(with_entities)

    def per_intent(self) -> list[IntentScore]:
        """Precision and recall per expected or predicted intent, by name (None last)."""
        expected = Counter(_label(o.case.intent) for o in self.outcomes)
        predicted = Counter(_label(o.predicted) for o in self.outcomes)
        hits = Counter(_label(o.predicted) for o in self.outcomes if o.correct)
        labels = sorted(set(expected) | set(predicted), key=lambda n: (n == NONE_LABEL, n))
        return [
            IntentScore(
                label,
                hits[label] / predicted[label] if predicted[label] else 0.0,
                hits[label] / expected[label] if expected[label] else 0.0,
                expected[label],
                predicted[label],
            )
            for label in labels
        ]

    def format(self, misclassified: int = 30) -> str:
        """A terminal table: per-intent figures, the overall accuracy, and the first
        `misclassified` mistakes."""
        scores = self.per_intent()
        width = max([len("intent"), *(len(s.intent) for s in scores)])
        lines = [
            f"{'intent':{width}}  precision  recall  support  predicted",
            f"{'-' * width}  ---------  ------  -------  ---------",
        ]
        for s in scores:
            lines.append(
                f"{s.intent:{width}}  {s.precision:9.1%}  {s.recall:6.1%}"
                f"  {s.support:7d}  {s.predicted:9d}"
            )
        lines.append(f"{'-' * width}  ---------  ------  -------  ---------")
        lines.append(f"accuracy: {self.accuracy:.1%} ({self.correct}/{self.total})")
        entity_accuracy = self.entity_accuracy
        if entity_accuracy is not None:
            lines.append(f"entities: {entity_accuracy:.1%} of the cases that list some")
        wrong = self.misclassified
        if wrong:
            lines.append(f"misclassified ({len(wrong)}):")
            for o in wrong[:misclassified]:
                lines.append(
                    f"  {o.case.text[:60]!r} [{o.case.lang}]: expected {_label(o.case.intent)},"
                    f" got {_label(o.predicted)} ({o.confidence:.2f})"
                )
            if len(wrong) > misclassified:
                lines.append(f"  ... and {len(wrong) - misclassified} more")
        return "\n".join(lines)


def load_cases(path: Path | str) -> list[EvalCase]:
    """The cases of a YAML file: a list of mappings, or a mapping with a `cases:` list."""
    data: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("cases", [])
    return list(parse_cases(data or []))


def parse_cases(items: Iterable[Any]) -> Iterable[EvalCase]:
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict) or "text" not in item:
            raise ValueError(f"case {number}: expected a mapping with `text`, got {item!r}")
        intent = item.get("intent")
        if intent is not None and str(intent).strip().casefold() in _NONE_WORDS:
            intent = None
        entities = item.get("entities") or {}
        if not isinstance(entities, dict):
            raise ValueError(f"case {number}: `entities` must map a kind to a value")
        yield EvalCase(
            text=str(item["text"]),
            intent=None if intent is None else str(intent),
            lang=str(item.get("lang") or "en"),
            entities={str(k): str(v) for k, v in entities.items()},
        )


async def evaluate(
    classify: Callable[[str, str], Awaitable[Meaning]], cases: Iterable[EvalCase]
) -> Report:
    """Run every case through `classify` (e.g. a classifier's `classify` method)."""
    outcomes: list[Outcome] = []
    for case in cases:
        meaning = await classify(case.text, case.lang)
        understood = meaning.intent is not None and meaning.confidence >= UNDERSTOOD
        outcomes.append(
            Outcome(
                case,
                meaning.intent if understood else None,
                meaning.confidence,
                {entity.kind: entity.value for entity in meaning.entities},
            )
        )
    return Report(outcomes)


def _label(intent: str | None) -> str:
    return NONE_LABEL if intent is None else intent
