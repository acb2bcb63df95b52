"""What the worker's jobs share in one process: the HTTP client the senders use, the
database, the document store, the PDF drawing processes and the checks a citizen's
message passes before it goes (opt-outs, outbound budgets)."""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import httpx2 as httpx

from gateway.delivery.notifications import Recipients
from gateway.delivery.outgoing import SendContext
from gateway.documents import DocumentStore, store_from_settings
from gateway.documents.drawers import drawer_count, start_drawer
from gateway.security.budget import OutboundBudget
from gateway.security.limiter import Limiter
from gateway.settings import Settings
from state.connect import connect
from state.consent import ConsentStore
from state.database import Database, database_url
from state.store import SessionStore
from state.submissions import SubmissionStore

HTTP_TIMEOUT = 15.0


@dataclasses.dataclass(frozen=True, slots=True)
class WorkerContext:
    """What the jobs share in one worker: the HTTP client, the database, the documents."""

    send: SendContext
    database: Database
    submissions: SubmissionStore
    documents: DocumentStore
    renderer: ProcessPoolExecutor  # PDFs drawn beside the event loop, on every core
    drawing: asyncio.Semaphore  # one per drawing process: more would only queue
    recipients: Recipients  # opt-outs and budgets, before a citizen's message goes
    sessions: SessionStore | None  # the session store's Redis, when the worker knows it

    @classmethod
    async def open(cls, settings: Settings, session_url: str | None = None) -> WorkerContext:
        database = Database(database_url(settings.database_url, settings.var_dir))
        try:
            await database.migrate()  # a worker may start before any `gateway serve`
            documents = store_from_settings(settings.documents_url, settings.var_dir)
        except BaseException:
            # Stopped while starting (an in-process worker when its server stops at once)
            # or misconfigured: the database's connection must not be left behind.
            await asyncio.shield(database.close())
            raise
        drawers = drawer_count(settings.pdf_processes)
        sessions = SessionStore(connect(session_url)) if session_url else None
        budget = (
            OutboundBudget(Limiter(sessions.client, session_url), settings)
            if sessions is not None
            else None
        )
        recipients = Recipients(ConsentStore(database), sessions, budget)
        return cls(
            SendContext(settings, httpx.AsyncClient(timeout=HTTP_TIMEOUT)),
            database,
            SubmissionStore(database, settings.document_days),
            documents,
            # Below the sends in the CPU's queue: a link is never late for a PDF.
            ProcessPoolExecutor(
                max_workers=drawers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=start_drawer,
            ),
            asyncio.Semaphore(drawers),
            recipients,
            sessions,
        )

    async def close(self) -> None:
        self.renderer.shutdown(wait=False, cancel_futures=True)
        await self.send.http.aclose()
        if self.sessions is not None:
            await self.sessions.close()
        await self.database.close()
