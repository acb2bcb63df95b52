"""The classifier interface every intent detector implements."""

from __future__ import annotations

from typing import Protocol

from dialogs.messages import Meaning


class Classifier(Protocol):
    """Free text in, a `Meaning` out (intent, confidence, ranking, entities).

    Never raises for odd text: what is not understood is a Meaning without an intent.
    """

    name: str

    async def classify(self, text: str, lang: str) -> Meaning: ...
