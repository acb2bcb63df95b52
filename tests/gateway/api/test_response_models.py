"""The response models write the very bytes the hand-built answers wrote before them.

Each answer goes through FastAPI twice, in an app of its own: as the model the route
returns now, and as the plain data the route used to build by hand (kept here as the
record of the format: times in ISO 8601, `Z` on submissions only, nulls written out).
Times with and without microseconds, and missing ones, are where a model could differ.
No Redis, no database: the rows are built in memory.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from dialogs.problems import Problem
from gateway.analytics.funnel import ChannelTotals, Funnel, StepFigures, StepFunnel
from gateway.api.messages import LoggedMessage
from gateway.api.notifications import Notification
from gateway.api.ops import ops_router
from gateway.api.publishing import ReloadResult, ServiceState, service_states
from gateway.api.submissions import SubmissionRecord
from gateway.catalog.changes import ReloadReport, ServiceChange
from gateway.catalog.repository import load_repository
from gateway.submissions.service import submission_data
from state.database import MessageRow
from state.submissions import NotificationRow, SubmissionRow

ROUND = datetime(2026, 3, 4, 5, 6, 7)
FINE = datetime(2026, 3, 4, 5, 6, 7, 890000)


def answered(value: Any, model: Any) -> bytes:
    """The body FastAPI writes for `value` returned by a route declared to give `model`."""
    app = FastAPI()
    app.add_api_route("/", lambda: value, methods=["GET"], response_model=model)
    return TestClient(app).get("/").content


def same_bytes(new: Any, model: Any, old: Any) -> None:
    """`new` as `model` and `old` as the routes declared it before (a dict, or a list of
    them) are written alike."""
    before = list[dict[str, Any]] if isinstance(old, list) else dict[str, Any]
    assert answered(new, model) == answered(old, before)


def submission(created: datetime, decided: datetime | None, flags: list[str] | None) -> Any:
    return SubmissionRow(
        reference="BR-2026-000001",
        service="business-registration",
        version=2,
        mode="review",
        status="approved" if decided else "pending",
        citizen="+97517123456",
        channel="ussd",
        lang="dz",
        answers={"name": "Pema Wangmo", "district": "thimphu", "employees": 3},
        applicant_id="11501001234",
        phone=None,
        flags=flags,
        check_code="K7PQ-2M9X",
        reason=None,
        created_at=created,
        decided_at=decided,
    )


def test_submissions_as_the_admin_api_wrote_them() -> None:
    for row, token in [
        (submission(ROUND, None, None), None),
        (submission(FINE, datetime(2026, 3, 5, 0, 0, 0, 1), ["repeat-applicant"]), "tok"),
    ]:
        same_bytes(
            SubmissionRecord.of(row, token),
            SubmissionRecord,
            {**submission_data(row), "document_token": token},
        )


def test_notifications_as_the_admin_api_wrote_them() -> None:
    rows = [
        NotificationRow(
            id=7,
            submission_id=3,
            event="approved",
            kind="message",
            channel="sms/africastalking",
            address="+97517123456",
            status=status,
            attempts=attempts,
            last_error=error,
            created_at=created,
            sent_at=sent,
        )
        for status, attempts, error, created, sent in [
            ("failed", 5, "HTTP 502 from the provider", FINE, None),
            ("sent", 1, None, ROUND, FINE),
        ]
    ]
    old = [
        {
            "id": row.id,
            "submission_id": row.submission_id,
            "event": row.event,
            "kind": row.kind,
            "channel": row.channel,
            "address": row.address,
            "status": row.status,
            "attempts": row.attempts,
            "last_error": row.last_error,
            "created_at": row.created_at.isoformat(),
            "sent_at": row.sent_at.isoformat() if row.sent_at else None,
        }
        for row in rows
    ]
    same_bytes([Notification.model_validate(row) for row in rows], list[Notification], old)


def test_the_message_log_as_the_admin_api_wrote_it() -> None:
    rows = [
        MessageRow(
            at=at,
            channel="ussd",
            direction=direction,
            address="+97517123456",
            text="Kuzuzangpo! Your name?\n1. བོད་",
            provider_id=provider_id,
            status="delivered",
            segments=segments,
        )
        for at, direction, provider_id, segments in [
            (ROUND, "in", "ATUid_1", 0),
            (FINE, "out", None, 2),
        ]
    ]
    old = [
        {
            "at": row.at.isoformat(),
            "channel": row.channel,
            "direction": row.direction,
            "address": row.address,
            "text": row.text,
            "provider_id": row.provider_id,
            "status": row.status,
            "segments": row.segments,
        }
        for row in rows
    ]
    same_bytes([LoggedMessage.model_validate(row) for row in rows], list[LoggedMessage], old)


def problem_data(problem: Problem) -> dict[str, Any]:
    return {
        "file": problem.file,
        "line": problem.line,
        "col": problem.col,
        "code": problem.code,
        "severity": problem.severity,
        "message": problem.message,
        "hint": problem.hint,
    }


def test_a_reload_report_as_the_admin_api_wrote_it() -> None:
    problem = Problem("services/permit.yaml", 12, 5, "E020", "unknown step `fee`", "add it")
    report = ReloadReport(
        changes=[
            ServiceChange("greeting", "published", 3, 2, "services/greeting.yaml"),
            ServiceChange("permit", "refused", 1, 1, "services/permit.yaml", "errors", (problem,)),
            ServiceChange("old", "withdrawn", None, 4, "", "not in the folder"),
        ],
        generation=None,
    )
    old = {
        "changed": True,
        "refused": ["permit"],
        "generation": None,
        "services": [
            {**dataclasses.asdict(change), "problems": [problem_data(p) for p in change.problems]}
            for change in report.changes
        ],
    }
    same_bytes(ReloadResult.of(report), ReloadResult, old)


def test_the_services_of_the_admin_api_as_it_wrote_them(services_dir: Path) -> None:
    running = load_repository([services_dir]).catalog
    (services_dir / "broken.yaml").write_text("format: 1\nid: broken\n", encoding="utf-8")
    folder = load_repository([services_dir])
    broken = folder.problems
    assert broken
    old = [
        {
            "id": "broken",
            "title": "",
            "published": None,
            "running": [],
            "file": str(services_dir / "broken.yaml"),
            "folder_version": None,
            "problems": [problem_data(p) for p in broken],
            "on_reload": {"outcome": "refused", "reason": "checker errors; not published"},
        },
        {
            "id": "greeting",
            "title": "Say hello",
            "published": 2,
            "running": [2],
            "file": str(services_dir / "greeting.yaml"),
            "folder_version": 2,
            "problems": [],
            "on_reload": {"outcome": "unchanged", "reason": ""},
        },
    ]
    same_bytes(service_states(running, folder), list[ServiceState], old)


def test_the_funnel_as_the_analytics_api_wrote_it() -> None:
    figures = StepFigures(reached=4, dropped=1, invalid=3, median_seconds=12.5)
    result = Funnel(
        service="greeting",
        title="Say hello",
        since=FINE,
        until=None,
        channel=None,
        started=5,
        completed=3,
        completion_rate=0.6,
        steps=[
            StepFunnel("name", "Your name", "input", 4, 1, 3, 12.5, {"ussd": figures}),
            StepFunnel("gone", "", "", 0, 0, 0, None, {}),
        ],
        by_channel={"ussd": ChannelTotals(5, 3, 0.6), "web": ChannelTotals()},
    )
    old = {**dataclasses.asdict(result), "since": FINE.isoformat(), "until": None}
    same_bytes(result, Funnel, old)


def test_readiness_writes_an_error_only_for_a_failed_check_and_no_breaker_without_rasa() -> None:
    app = FastAPI()
    app.include_router(ops_router(timeout=0.5))
    client = TestClient(app)  # never started: every check fails at once
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["failed"]) == ("unavailable", ["redis", "database", "queue"])
    for check in body["checks"].values():
        assert set(check) == {"ok", "ms", "error"}
        assert check["error"] == "NotStartedError: the gateway has not started"
    assert client.get("/healthz").content == b'{"status":"ok"}'
