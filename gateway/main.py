"""The FastAPI application: health and the catalogue of services loaded from disk.

Channel webhooks are added by the channels issue; the engine they call is `dialogs`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from dialogs.text import localise
from gateway.repository import load_repository
from gateway.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    repository = load_repository([settings.services_dir])
    app = FastAPI(title="Government services gateway", version="0.1.0")

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/api/v1/services", tags=["services"])
    def services() -> list[dict[str, Any]]:
        """Published services with their versions and languages."""
        return [
            {
                "id": s.id,
                "version": s.version,
                "title": localise(s.definition.title, "en"),
                "languages": s.definition.languages,
                "steps": len(s.order),
            }
            for s in repository.catalog.menu()
        ]

    @app.get("/api/v1/services/problems", tags=["services"])
    def problems() -> list[dict[str, Any]]:
        """What `gateway check` reports for the loaded folder."""
        return [
            {
                "file": p.file,
                "line": p.line,
                "col": p.col,
                "code": p.code,
                "severity": p.severity,
                "message": p.message,
                "hint": p.hint,
            }
            for p in repository.problems
        ]

    return app
