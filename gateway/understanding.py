"""The intent classifier the gateway uses: embedded, or Rasa with the embedded fallback.

The embedded classifier is built from the catalog at start (no server, no training
step); `GATEWAY_RASA_URL` puts a Rasa server in front of it, behind a tight timeout and
a circuit breaker so that a slow or dead Rasa costs a citizen at most the timeout once.
"""

from __future__ import annotations

import contextlib

from dialogs.catalog import Catalog
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
