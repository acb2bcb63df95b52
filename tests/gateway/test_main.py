"""The FastAPI app on embedded defaults."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from gateway.main import create_app
from gateway.settings import Settings


def test_health_and_services(services_dir: Path) -> None:
    client = TestClient(create_app(Settings(services_dir=services_dir)))
    assert client.get("/healthz").json() == {"status": "ok"}
    services = client.get("/api/v1/services").json()
    assert services == [
        {"id": "greeting", "version": 2, "title": "Say hello", "languages": ["en"], "steps": 3}
    ]
    assert client.get("/api/v1/services/problems").json() == []
    assert client.get("/openapi.json").status_code == 200


def test_problems_are_listed_and_broken_services_not_published(services_dir: Path) -> None:
    (services_dir / "broken.yaml").write_text("format: 1\nid: broken\n", encoding="utf-8")
    client = TestClient(create_app(Settings(services_dir=services_dir)))
    assert [s["id"] for s in client.get("/api/v1/services").json()] == ["greeting"]
    problems = client.get("/api/v1/services/problems").json()
    assert {p["code"] for p in problems} == {"E010"}
    assert all(p["file"].endswith("broken.yaml") and p["severity"] == "error" for p in problems)
