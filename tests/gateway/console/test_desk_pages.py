"""The applications desk through its pages, as a browser without script posts them: the
queue, one application, approve, reject, return for correction (and the citizen's
correction over USSD), assignment, revocation; one officer's service only."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from state.access import Role
from state.submissions import SubmissionRow, utcnow
from tests.gateway.console.desk_app import (
    CITIZEN,
    DRONE_CODE,
    add_account,
    apply_for_drone_permit,
    console_app,
    csrf_of,
    officer,
    runtime,
    sign_in,
)
from tests.gateway.providers.apps import dial
from tests.redis_databases import RedisDatabase


def _status(client: TestClient, reference: str) -> str:
    assert client.portal is not None
    row = client.portal.call(runtime(client).submission_store.by_reference, reference)
    assert row is not None
    return row.status


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_sign_in_page(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        response = client.get("/console/applications?status=pending")
        assert response.status_code == 303
        assert (
            response.headers["location"] == "/console?next=/console/applications%3Fstatus%3Dpending"
        )
        page = client.get("/console")
        assert '<label for="email">Email</label>' in page.text
        assert '<label for="password">Password</label>' in page.text
        assert ">Sign in</button>" in page.text


def test_an_officer_finds_the_application_and_approves_it(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        add_account(client, "dorji@gov.bt", officer("drone-flight-authorization"))
        reference = apply_for_drone_permit(client)
        assert sign_in(client, "dorji@gov.bt").status_code == 303
        queue = client.get("/console/applications")
        assert queue.status_code == 200
        assert f'href="/console/applications/{reference}"' in queue.text
        assert "+97517•••456" in queue.text
        assert CITIZEN not in queue.text
        page = client.get(f"/console/applications/{reference}")
        assert '<strong id="status">submitted</strong>' in page.text
        assert "DJI Mavic 3" in page.text
        assert "Drone" in page.text
        assert ">Approve</button>" in page.text
        assert ">Reject</button>" in page.text
        assert ">Return for correction</button>" in page.text
        done = client.post(
            f"/console/applications/{reference}/approve", data={"csrf": csrf_of(page.text)}
        )
        assert done.status_code == 303
        assert _status(client, reference) == "approved"
        after = client.get(done.headers["location"])
        assert '<strong id="status">approved</strong>' in after.text
        assert "approved by dorji@gov.bt" in after.text  # the timeline


def test_of_two_officers_deciding_at_once_one_wins_and_the_other_sees_why(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        add_account(client, "dorji@gov.bt", officer())
        add_account(client, "karma@gov.bt", officer())
        reference = apply_for_drone_permit(client)
        # Two browsers: one client (one event loop), each person's cookies in turn.
        sign_in(client, "dorji@gov.bt")
        first = csrf_of(client.get(f"/console/applications/{reference}").text)
        dorji = dict(client.cookies)
        client.cookies.clear()
        sign_in(client, "karma@gov.bt")
        second = csrf_of(client.get(f"/console/applications/{reference}").text)
        rejected = client.post(
            f"/console/applications/{reference}/reject",
            data={"csrf": second, "reason": "The flight area is restricted."},
        )
        assert rejected.status_code == 303
        client.cookies.clear()
        client.cookies.update(dorji)
        late = client.post(f"/console/applications/{reference}/approve", data={"csrf": first})
        assert late.status_code == 409
        assert "rejected already: another officer acted first" in late.text
        assert _status(client, reference) == "rejected"


def test_an_officer_limited_to_one_service_cannot_see_or_decide_another(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        add_account(client, "pema@gov.bt", officer("bus-service-permit"))
        reference = apply_for_drone_permit(client)
        sign_in(client, "pema@gov.bt")
        assert reference not in client.get("/console/applications").text
        assert client.get(f"/console/applications/{reference}").status_code == 404
        csrf = csrf_of(client.get("/console/applications").text)
        refused = client.post(f"/console/applications/{reference}/approve", data={"csrf": csrf})
        assert refused.status_code == 404
        assert _status(client, reference) == "pending"


def test_a_form_without_its_csrf_token_is_refused(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        add_account(client, "dorji@gov.bt", officer())
        reference = apply_for_drone_permit(client)
        sign_in(client, "dorji@gov.bt")
        for token in ("", "forged"):
            refused = client.post(
                f"/console/applications/{reference}/approve", data={"csrf": token}
            )
            assert refused.status_code == 403
        assert _status(client, reference) == "pending"


def test_a_returned_application_takes_the_citizen_to_the_named_answer_on_redial(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        add_account(client, "dorji@gov.bt", officer("drone-flight-authorization"))
        reference = apply_for_drone_permit(client)
        sign_in(client, "dorji@gov.bt")
        page = client.get(f"/console/applications/{reference}")
        returned = client.post(
            f"/console/applications/{reference}/return",
            data={
                "csrf": csrf_of(page.text),
                "steps": ["drone_model"],
                "note": "Give the model as printed on the drone.",
            },
        )
        assert returned.status_code == 303
        assert _status(client, reference) == "returned"
        # The citizen dials again: straight to the drone model, then the summary.
        screen = dial(client, DRONE_CODE, "s-2", [], CITIZEN)
        assert f"Please correct application {reference}" in screen
        assert "Drone make and model" in screen
        screen = dial(client, DRONE_CODE, "s-2", ["DJI Mini 4 Pro"], CITIZEN)
        assert "DJI Mini 4 Pro" in screen  # the summary
        screen = dial(client, DRONE_CODE, "s-2", ["DJI Mini 4 Pro", "1", "1"], CITIZEN)
        assert reference in screen
        assert _status(client, reference) == "pending"
        assert client.portal is not None
        row = client.portal.call(runtime(client).submission_store.by_reference, reference)
        assert row is not None
        assert row.answers["drone_model"] == "DJI Mini 4 Pro"
        assert row.assigned_to is not None  # back to the officer who returned it
        page = client.get(f"/console/applications/{reference}")
        assert "corrected by the citizen" in page.text
        assert "returned for correction by dorji@gov.bt" in page.text
        # A later dial begins as usual: the correction is done.
        assert "Please correct" not in dial(client, DRONE_CODE, "s-3", [], CITIZEN)


def test_the_queue_filters_and_pages(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        add_account(client, "dorji@gov.bt", officer())
        references = [
            apply_for_drone_permit(client, session=f"q-{n}", phone=f"+9751712340{n}")
            for n in range(3)
        ]
        sign_in(client, "dorji@gov.bt")
        oldest = client.get("/console/applications?order=oldest").text
        assert oldest.index(references[0]) < oldest.index(references[2])
        newest = client.get("/console/applications").text
        assert newest.index(references[2]) < newest.index(references[0])
        one = client.get(f"/console/applications?reference={references[1].lower()}").text
        assert references[1] in one
        assert references[0] not in one
        assert references[0] not in client.get("/console/applications?status=approved").text
        assert (
            "3 applications"
            in client.get("/console/applications?service=drone-flight-authorization").text
        )
        assert (
            "No application matches."
            in client.get("/console/applications?from=2001-01-01&to=2001-01-02").text
        )


def test_signing_out_ends_the_session_even_for_a_copied_cookie(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        add_account(client, "dorji@gov.bt", officer())
        sign_in(client, "dorji@gov.bt")
        copied = dict(client.cookies)
        page = client.get("/console/applications")
        out = client.post("/console/sign-out", data={"csrf": csrf_of(page.text)})
        assert out.status_code == 303
        client.cookies.clear()
        client.cookies.update(copied)  # someone who kept a copy of the cookie
        assert client.get("/console/applications").status_code == 303


def test_wrong_passwords_are_throttled_per_account(redis_database: RedisDatabase) -> None:
    with console_app(redis_database) as client:
        add_account(client, "dorji@gov.bt", officer())
        for _ in range(5):
            assert sign_in(client, "dorji@gov.bt", "wrong password!!").status_code == 401
        refused = sign_in(client, "dorji@gov.bt")  # the right one: still waits
        assert refused.status_code == 429
        assert "Too many attempts" in refused.text


def test_a_person_without_the_officer_role_cannot_open_the_desk(
    redis_database: RedisDatabase,
) -> None:
    from state.access import Grant

    with console_app(redis_database) as client:
        add_account(client, "sonam@gov.bt", Grant(Role.ANALYST))
        sign_in(client, "sonam@gov.bt")
        assert client.get("/console/applications").status_code == 403


def _backdate(client: TestClient, reference: str, days: int) -> None:
    """The application as if it had been submitted `days` ago."""

    async def back() -> None:
        database = runtime(client).submission_store.database
        async with database.sessions() as session, session.begin():
            await session.execute(
                update(SubmissionRow)
                .where(SubmissionRow.reference == reference)
                .values(created_at=utcnow() - timedelta(days=days))
            )

    assert client.portal is not None
    client.portal.call(back)


def test_an_application_past_its_target_time_is_marked_overdue(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        add_account(client, "dorji@gov.bt", officer())
        fresh = apply_for_drone_permit(client, session="o-1")
        late = apply_for_drone_permit(client, session="o-2", phone="+97517123457")
        _backdate(client, late, days=4)  # the drone permit's target: review.days 3
        sign_in(client, "dorji@gov.bt")
        rows = client.get("/console/applications").text.split("<tr")
        (late_row,) = [row for row in rows if late in row]
        (fresh_row,) = [row for row in rows if fresh in row]
        assert 'class="overdue"' in late_row
        assert 'class="overdue"' not in fresh_row
        assert "4 d 0 h" in late_row  # waiting


def test_an_officer_assigns_an_application_and_revokes_its_permit_saying_why(
    redis_database: RedisDatabase,
) -> None:
    with console_app(redis_database) as client:
        add_account(client, "dorji@gov.bt", officer())
        add_account(client, "karma@gov.bt", officer("drone-flight-authorization"))
        reference = apply_for_drone_permit(client)
        sign_in(client, "dorji@gov.bt")
        page = client.get(f"/console/applications/{reference}")
        assert "<option>karma@gov.bt</option>" in page.text  # officers of the service
        assigned = client.post(
            f"/console/applications/{reference}/assign",
            data={"csrf": csrf_of(page.text), "assignee": "karma@gov.bt"},
        )
        assert assigned.status_code == 303
        mine = client.get("/console/applications?assigned=me").text
        assert reference not in mine  # karma's now, not dorji's
        nobody = client.post(
            f"/console/applications/{reference}/assign",
            data={"csrf": csrf_of(page.text), "assignee": "stranger@gov.bt"},
        )
        assert nobody.status_code == 422
        page = client.get(f"/console/applications/{reference}")
        assert "assigned to karma@gov.bt by dorji@gov.bt" in page.text
        client.post(f"/console/applications/{reference}/approve", data={"csrf": csrf_of(page.text)})
        page = client.get(f"/console/applications/{reference}")
        assert ">Revoke document</button>" in page.text
        revoked = client.post(
            f"/console/applications/{reference}/revoke",
            data={"csrf": csrf_of(page.text), "reason": "Flown over the dzong."},
        )
        assert revoked.status_code == 303
        assert client.portal is not None
        row = client.portal.call(runtime(client).submission_store.by_reference, reference)
        assert row is not None
        assert row.check_code is not None
        check = client.get(f"/verify/{reference}", params={"code": row.check_code})
        assert "This document is no longer valid." in check.text
        assert "Flown over the dzong." in check.text
