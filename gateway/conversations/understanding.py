"""The intent classifier the gateway uses: embedded, or Rasa with the embedded fallback.

The embedded classifier is built from the catalog at start (no server, no training
step); `GATEWAY_RASA_URL` puts a Rasa server in front of it, behind a tight timeout and
a circuit breaker so that a slow or dead Rasa costs a citizen at most the timeout once.
A reload of `services/` trains a new embedded classifier and swaps it in (`swap_embedded`).
"""

from __future__ import annotations

import contextlib

from dialogs.catalog import Catalog
from gateway.conversations.effects import Classify
from gateway.settings import Settings, secret
from nlu.breaker import CircuitBreaker
from nlu.classifier import Classifier
from nlu.embedded import EmbeddedClassifier
from nlu.rasa_client import RasaClassifier


def classifier_for(
    settings: Settings, catalog: Catalog, resources: contextlib.AsyncExitStack
) -> Classifier:
    """The configured classifier; what it holds open is closed with `resources`."""
    embedded = EmbeddedClassifier.from_catalog(catalog)
    if not settings.rasa_url:
        return embedded
    rasa = RasaClassifier(
        settings.rasa_url,
        fallback=embedded,
        token=secret(settings.rasa_token),
        timeout=settings.rasa_timeout_seconds,
        breaker=CircuitBreaker(settings.rasa_failures, settings.rasa_cooldown_seconds, name="rasa"),
    )
    resources.push_async_callback(rasa.aclose)
    return rasa


def embedded_for(catalog: Catalog) -> EmbeddedClassifier:
    """A fresh embedded classifier trained on the published services of `catalog` (about
    0.04 s for the shipped services: worth a thread when reloading under load)."""
    return EmbeddedClassifier.from_catalog(catalog)


def swap_embedded(classify: Classify, embedded: EmbeddedClassifier) -> Classify:
    """What `Conversations.classify` should point at once `embedded` replaces the
    classifier trained on the previous catalog.

    Behind Rasa the embedded classifier is its fallback: swapped in place, so the Rasa
    client keeps its connections and circuit breaker. A stand-in that is no classifier of
    ours (tests, `nothing_understood`) knows nothing of the catalog and is kept.
    """
    owner = getattr(classify, "__self__", None)
    if isinstance(owner, RasaClassifier):
        owner.fallback = embedded
        return classify
    if isinstance(owner, EmbeddedClassifier):
        return embedded.classify
    return classify
