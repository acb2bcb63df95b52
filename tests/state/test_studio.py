"""Service drafts on SQLite and PostgreSQL (a database of this module's own): made once,
changed only over the revision they name, sent for review, and back to editing when
changed again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from state.database import Database
from state.published import NewVersion, ServiceVersions
from state.studio import DraftConflictError, DraftStore
from tests.state.own_database import own_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    async with own_database(request.param, tmp_path, "gateway_studio_test") as db:
        yield db


async def test_a_draft_changes_only_over_the_revision_it_names(database: Database) -> None:
    drafts = DraftStore(database)
    made = await drafts.save("permit", "id: permit\n", revision=None, by="a@gov.bt")
    assert (made.revision, made.state, made.tests) == (1, "editing", None)
    with pytest.raises(DraftConflictError) as again:
        await drafts.save("permit", "id: permit\n# mine\n", revision=None, by="b@gov.bt")
    assert again.value.current is not None
    assert again.value.current.revision == 1
    second = await drafts.save("permit", "id: permit\n# two\n", revision=1, by="b@gov.bt")
    assert (second.revision, second.updated_by) == (2, "b@gov.bt")
    with pytest.raises(DraftConflictError) as stale:
        await drafts.save("permit", "id: permit\n# stale\n", revision=1, by="a@gov.bt")
    assert stale.value.current is not None
    assert stale.value.current.source == "id: permit\n# two\n"  # what changed
    tested = await drafts.save_tests("permit", "service: permit\n", revision=2, by="a@gov.bt")
    sent = await drafts.submit("permit", revision=tested.revision, by="a@gov.bt")
    assert (sent.state, sent.submitted_by, sent.revision) == ("submitted", "a@gov.bt", 4)
    edited = await drafts.save("permit", "id: permit\n# after\n", revision=4, by="a@gov.bt")
    assert (edited.state, edited.submitted_by, edited.tests) == (
        "editing",
        None,
        "service: permit\n",
    )
    assert [d.service for d in await drafts.list()] == ["permit"]
    with pytest.raises(DraftConflictError) as absent:
        await drafts.save("other", "x", revision=1, by="a@gov.bt")
    assert absent.value.current is None


async def test_of_two_saves_over_one_revision_one_wins(database: Database) -> None:
    drafts = DraftStore(database)
    await drafts.save("permit", "v1", revision=None, by="a@gov.bt")
    outcomes = await asyncio.gather(
        drafts.save("permit", "mine", revision=1, by="a@gov.bt"),
        drafts.save("permit", "theirs", revision=1, by="b@gov.bt"),
        return_exceptions=True,
    )
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, DraftConflictError)]
    assert (len(won), len(lost)) == (1, 1)
    current = await drafts.get("permit")
    assert current is not None
    assert current.source == won[0].source


async def test_a_publisher_sends_a_draft_back_or_publishes_it(database: Database) -> None:
    drafts = DraftStore(database)
    await drafts.save("permit", "id: permit\n", revision=None, by="a@gov.bt")
    sent = await drafts.submit("permit", revision=1, by="a@gov.bt")
    back = await drafts.send_back("permit", revision=sent.revision, by="p@gov.bt", comment="Why?")
    assert (back.state, back.comment, back.submitted_by) == ("editing", "Why?", None)
    again = await drafts.submit("permit", revision=back.revision, by="a@gov.bt")
    assert again.comment is None  # answered by sending it again
    text = "id: permit\nversion: 4\n"
    versions = ServiceVersions(database)
    four = NewVersion("permit", 4, text, None, "{}", "studio", "p@gov.bt", "ok")
    await versions.publish(four, draft_revision=again.revision)
    done = await drafts.get("permit")
    assert done is not None
    assert (done.state, done.published, done.comment, done.source) == ("published", 4, "ok", text)
    five = NewVersion("permit", 5, text, None, "{}", "studio", "q@gov.bt", None)
    with pytest.raises(DraftConflictError):  # a second publisher of the same revision
        await versions.publish(five, draft_revision=again.revision)
    assert await versions.highest("permit") == 4  # and nothing of it recorded
    edited = await drafts.save("permit", "id: permit\n# 2\n", revision=done.revision, by="a@gov.bt")
    assert (edited.state, edited.published) == ("editing", None)
