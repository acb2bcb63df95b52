"""The folder's versions recorded in the database: a process starting on an older folder
(a ConfigMap that has not reached it yet) withdraws nothing there, as it withdraws
nothing for the other processes; a reload of a folder without the service does."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tests.gateway.console.desk_app import ROOT, console_app, runtime
from tests.redis_databases import RedisDatabase

GONE = "bus-service-permit"
ADMIN = "admin-token-for-the-recorded-test-4c1e"


def test_only_a_reload_withdraws_in_the_database(redis_database: RedisDatabase) -> None:
    place = Path(tempfile.mkdtemp(prefix="gateway-recorded-"))
    current, older = place / "current", place / "older"
    shutil.copytree(ROOT / "services", current)
    shutil.copytree(ROOT / "services", older)
    (older / f"{GONE}.yaml").unlink()
    url = f"sqlite:///{place / 'gateway.db'}"
    with console_app(
        redis_database, database_url=url, services_dir=current, admin_token=ADMIN
    ) as first:
        assert first.portal is not None
        versions = runtime(first).versions
        assert first.portal.call(versions.head, GONE) == 1
        with console_app(
            redis_database, database_url=url, services_dir=older, admin_token=ADMIN
        ) as behind:
            # It does not offer the service itself, as its folder says, but the others do.
            assert GONE not in runtime(behind).conversations.catalog.published
            assert first.portal.call(versions.head, GONE) == 1
        (current / f"{GONE}.yaml").unlink()
        admin = {"Authorization": "Bearer " + ADMIN}
        assert first.post("/api/v1/admin/services/reload", headers=admin).is_success
        assert first.portal.call(versions.head, GONE) is None
