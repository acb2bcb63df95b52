"""`gateway import` and `gateway export` on a gateway's own database (SQLite under its
`var` folder, as on a fresh install): a folder's new versions are published, the same
content again changes nothing, other content under a published number or an older number
is refused, and a gateway started afterwards runs what was imported."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from gateway.cli.main import app
from tests.gateway.console.desk_app import ROOT, console_app, runtime
from tests.redis_databases import RedisDatabase

PERMIT = ROOT / "tests" / "gateway" / "studio" / "permit"
SERVICE = "construction-permit"
runner = CliRunner()


@pytest.fixture
def var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no developer's .env
    monkeypatch.setenv("GATEWAY_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", "")  # unset: SQLite under var
    monkeypatch.delenv("GATEWAY_REDIS_URL", raising=False)  # embedded: nobody to tell
    monkeypatch.setenv("GATEWAY_SERVICES_DIR", str(ROOT / "services"))
    return tmp_path / "var"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    made = tmp_path / "ministry"
    shutil.copytree(PERMIT, made)
    shutil.copytree(ROOT / "services" / "lists", made / "lists")
    return made


def cli(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_new_versions_are_published_and_others_refused(var: Path, folder: Path) -> None:
    first = cli("import", str(folder))
    assert first.exit_code == 0, first.output
    assert f"published {SERVICE}: version 1" in first.output
    assert "next start or reload" in first.output
    again = cli("import", str(folder))
    assert (again.exit_code, again.output.splitlines()) == (0, [f"unchanged {SERVICE}"])
    definition = folder / f"{SERVICE}.yaml"
    _edit(definition, "Kind of building", "Type of building")
    changed = cli("import", str(folder))
    assert changed.exit_code == 1
    assert "other content: raise the version" in changed.output
    _edit(definition, "version: 1", "version: 3")
    raised = cli("import", str(folder))
    assert raised.exit_code == 0, raised.output
    _edit(definition, "version: 3", "version: 2")
    older = cli("import", str(folder))
    assert older.exit_code == 1
    assert "version 2 is older than 3" in older.output


def test_a_broken_definition_is_refused_and_nothing_else_held_back(var: Path, folder: Path) -> None:
    shutil.copy(ROOT / "services" / "bus-service-permit.yaml", folder)
    _edit(folder / f"{SERVICE}.yaml", "goto: owner_cid", "goto: nowhere")
    result = cli("import", str(folder))
    assert result.exit_code == 1
    assert f"refused {SERVICE}: checker errors" in result.output
    assert "published bus-service-permit: version 1" in result.output
    assert cli("import", "no-such-folder").exit_code == 2


def test_a_gateway_runs_what_was_imported_and_exports_it_back(
    var: Path, folder: Path, tmp_path: Path, redis_database: RedisDatabase
) -> None:
    assert cli("import", str(folder)).exit_code == 0
    kinds = "title: Kinds\noptions:\n  - {value: house, label: House}\n"
    with console_app(redis_database, var_dir=var) as client:
        assert runtime(client).conversations.catalog.published[SERVICE] == 1
        lists = runtime(client).lists
        assert client.portal is not None
        client.portal.call(lambda: lists.save("kinds", kinds, revision=None, by="a@gov.bt"))
    exported = tmp_path / "exported"
    result = cli("export", str(exported))
    assert result.exit_code == 0, result.output
    for name in (f"{SERVICE}.yaml", f"{SERVICE}.tests.yaml", "lists/dzongkhags.yaml"):
        assert (exported / name).read_bytes() == (folder / name).read_bytes()
    assert (exported / "lists" / "kinds.yaml").read_text() == kinds  # written in the studio
    # The folder's own services, recorded when the gateway started, go with them.
    assert (exported / "business-registration.yaml").read_bytes() == (
        ROOT / "services" / "business-registration.yaml"
    ).read_bytes()


def test_an_export_is_imported_back_unchanged_and_keeps_only_what_is_live(
    var: Path, folder: Path, tmp_path: Path, redis_database: RedisDatabase
) -> None:
    assert cli("import", str(folder)).exit_code == 0
    fewer = (
        (folder / "lists" / "dzongkhags.yaml")
        .read_text()
        .replace("  - {value: bumthang", "  # - {value: bumthang", 1)
    )
    with console_app(redis_database, var_dir=var) as client:
        assert client.portal is not None
        lists = runtime(client).lists
        # The permit was published with 20 dzongkhags; the studio's list now has 19.
        client.portal.call(lambda: lists.save("dzongkhags", fewer, revision=None, by="a@gov.bt"))
    exported = tmp_path / "exported"
    (exported / "lists").mkdir(parents=True)
    stale = [exported / "withdrawn-service.yaml", exported / "lists" / "gone.yaml"]
    for path in stale:
        path.write_text("title: left by an earlier export\n")
    result = cli("export", str(exported))
    assert result.exit_code == 0, result.output
    for path in stale:
        assert not path.exists()
        assert f"removed {path}" in result.output
    assert (exported / "lists" / "dzongkhags.yaml").read_text() == fewer
    back = cli("import", str(exported))
    assert back.exit_code == 0, back.output
    assert f"unchanged {SERVICE}" in back.output.splitlines()
