"""What the running gateway holds, typed: built once by the app's lifespan
(`gateway.lifespan`), read by routes.

FastAPI's `app.state` is untyped (`app.state.X` is `Any`); routes read this instead, so a
renamed or missing part is a type error, not a 500. Handlers name the parts they use as
dependencies (`gateway.api.deps`); code that takes the raw request (the channel webhooks)
or the app (tests) calls `Runtime.of`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.console.oidc import OidcClient
    from gateway.console.sessions import Sessions
    from gateway.conversations.service import Conversations
    from gateway.delivery.outbox import Outbox
    from gateway.documents.store import DocumentStore
    from gateway.security.budget import OutboundBudget
    from gateway.security.limiter import Limiter, RateLimit
    from gateway.submissions.desk import Desk
    from gateway.submissions.service import Submissions
    from nlu.classifier import Classifier
    from state.accounts import AccountStore
    from state.api_keys import ApiKeyStore
    from state.audit import AuditLog
    from state.database import MessageLog
    from state.events import EventArchive
    from state.lists import ListStore
    from state.published import ServiceVersions
    from state.studio import DraftStore
    from state.submissions import SubmissionStore


class NotStartedError(RuntimeError):
    """The app's lifespan has not built the runtime (yet)."""


@dataclass
class Runtime:
    """The gateway's parts while it runs (mutable: tests swap a part for a fake)."""

    conversations: Conversations
    outbox: Outbox
    messages: MessageLog  # every message in and out, for the admin API
    limiter: Limiter
    budget: OutboundBudget  # outbound messages that cost money
    rate_limit: RateLimit  # the public pages (/d/, /verify/)
    submission_store: SubmissionStore
    submissions: Submissions
    documents: DocumentStore
    classifier: Classifier
    events: EventArchive
    api_keys: ApiKeyStore  # machines' keys to the API (`gateway keys`)
    audit: AuditLog  # who did what: append-only
    desk: Desk  # what officers do to applications (console and API)
    accounts: AccountStore  # civil servants' accounts
    console: Sessions | None  # the console's sessions; None: closed (no secret)
    oidc: OidcClient | None  # the government's single sign-on; None: not set up
    drafts: DraftStore  # services being written in the studio
    versions: ServiceVersions  # every published version, and what each service runs
    lists: ListStore  # shared lists written in the studio
    services_dir: Path  # the services folder (its shared lists check the drafts)

    @staticmethod
    def of(app: object) -> Runtime:
        """The runtime of a started app (a FastAPI app, or a test client's `app`);
        NotStartedError before its lifespan ran."""
        runtime = getattr(getattr(app, "state", None), "runtime", None)
        if not isinstance(runtime, Runtime):
            raise NotStartedError("the gateway has not started")
        return runtime
