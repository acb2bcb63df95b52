"""The OpenAPI document, fuzzed: no input to any endpoint gives a 5xx or an exception.

One gateway runs for the whole module with its real lifespan: a Redis server of its own
(`state.embedded.EmbeddedRedis`, never the suite's shared one), SQLite under a temporary
folder, the shipped services, two stored submissions and a notification to act on.
schemathesis reads the running app's own `/openapi.json` and, for every operation listed
there, generates requests that fit the schema (positive) and requests that do not
(negative: wrong types, values out of range, missing required parameters, odd headers).
Each goes through the TestClient with the admin token, without Authorization, or with
whatever Authorization header schemathesis made up. Some operations are also fuzzed
"anchored" on something that exists (a service, a submission, Meta's verify token), so
the generated values reach the code behind the 404.

The channel webhooks read the raw request, so the schema describes no body for them:
they are also sent junk (random bytes, JSON nested far past any parser's limit, huge
strings, forms in odd encodings) under every content type, mostly signed or carrying the
provider's secret, so that the junk reaches the parsers behind the checks. Methods no
route takes, paths no route has, and the routes kept out of the schema (static assets,
/docs) get a few malformed requests too.

A status >= 500, or an exception out of the app (the TestClient raises it), fails with
the request hypothesis shrank it to; a 4xx must say why (a body). Full conformance to the
schema is not asserted. Everything is bounded and deterministic (`derandomize=True`, no
example database, a fixed number of examples per operation); the last test prints how
many requests were sent, per operation, with their statuses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx2 as httpx
import pytest
import requests
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable, UnsatisfiedAssumption
from schemathesis import GenerationMode
from schemathesis.core.result import Err
from schemathesis.schemas import APIOperation, BaseSchema
from starlette.routing import Route

from gateway.providers import WEBHOOKS
from gateway.providers.meta.whatsapp import SIGNATURE_HEADER as META_HEADER
from gateway.providers.meta.whatsapp import hub_signature
from gateway.providers.telegram.webhook import SECRET_HEADER as TELEGRAM_HEADER
from gateway.providers.twilio.signature import SIGNATURE_HEADER as TWILIO_HEADER
from gateway.providers.twilio.signature import compute_signature
from gateway.runtime import Runtime
from gateway.settings import Settings
from state.submissions import NewSubmission, Owed, Stored, SubmissionStore
from tests.gateway.fuzzing import DETERMINISTIC, Sent, fuzzed_app, summary
from tests.gateway.providers.bodies import parsed_form, provider_type

Operation = APIOperation[Any, Any, Any, Any]
Case = schemathesis.Case[Any]
pytestmark = [
    pytest.mark.integration,  # the gateway on an embedded Redis of its own
    pytest.mark.timeout(300),  # a hang fails here, not at the suite's 10 minutes
]
ADMIN_TOKEN = "f0e1d2c3b4a5968778695a4b3c2d1e0f"  # 32 characters
TWILIO_TOKEN = "9f3c2a7be41d4c0f8a6b5e2d1c0b9a87"
META_SECRET = "fuzz-meta-app-secret-0123456789ab"
META_VERIFY = "fuzz-meta-verify-token-0123456789"
TELEGRAM_SECRET = "fuzz-telegram-secret-token-01234"
PUBLIC_URL = "https://gw.example.gov.bt"
BASE_URL = "http://testserver"
CITIZEN = "+97517123456"

EXAMPLES = 25  # per operation, generation mode and anchoring
# Every call of these reads the whole services folder again (about 0.25 s) and they take
# nothing but the Authorization header: a few examples say all there is to say.
FEWER = {
    "GET /api/v1/admin/services": 4,
    "GET /api/v1/services/problems": 4,
    # Not skipped, but bounded: each call republishes services/ here and, through Redis,
    # makes `follow_reloads` read it again. Publishing the folder as it is changes
    # nothing (another engineer editing services/ meanwhile would make it a 422: a 4xx).
    "POST /api/v1/admin/services/reload": 4,
}
JUNK_EXAMPLES = 60  # junk bodies per channel webhook

FUZZ = settings(
    DETERMINISTIC,
    max_examples=EXAMPLES,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


# ----------------------------------------------------------------------- the running gateway
@dataclass
class Fuzzed:
    """The running app, its schema as schemathesis read it, what exists in it, and the
    requests sent (per label: how many, their statuses, the seconds they took)."""

    app: FastAPI
    settings: Settings
    client: TestClient
    schema: BaseSchema
    anchors: dict[str, list[dict[str, Any]]]
    sent: Sent = field(default_factory=Sent)

    def send(self, label: str, request: httpx.Request) -> httpx.Response:
        """Send one request; a 5xx (or an exception, which the TestClient raises) fails,
        and so does a 4xx without a body saying why."""
        response = self.sent.send(
            label, lambda: self.client.send(request), lambda: describe(request)
        )
        shown = f"{describe(request)} -> {response.status_code}: {response.text[:300]}"
        assert response.status_code < 500, shown
        if 400 <= response.status_code < 500:
            assert response.content, f"a 4xx without a reason: {shown}"
        return response


def describe(request: httpx.Request) -> str:
    shown = f"{request.method} {request.url}"
    content_type = request.headers.get("content-type")
    if content_type is not None:
        shown += f" content-type: {content_type!r}"
    if request.content:
        shown += f" body ({len(request.content)} bytes): {request.content[:200]!r}"
    return shown


def seed(client: TestClient, store: SubmissionStore) -> tuple[Stored, Stored]:
    """A submission waiting for an officer (with a notification owed), and an issued one."""
    assert client.portal is not None

    def new(key: str, mode: str) -> NewSubmission:
        return NewSubmission(
            idempotency_key=key,
            service="business-registration",
            version=1,
            mode=mode,
            reference_prefix="BR",
            citizen=CITIZEN,
            channel="sms",
            lang="en",
            answers={"name": "Pema"},
            document={"title": "Certificate", "holder": "Pema Wangmo"}
            if mode == "instant"
            else None,
        )

    owed = [Owed("message", "sms", CITIZEN, {"text": "submitted", "values": {}, "token": None})]
    pending: Stored = client.portal.call(
        lambda: store.submit(new("fuzz-1", "approval"), owed, token=None)
    )
    issued: Stored = client.portal.call(
        lambda: store.submit(new("fuzz-2", "instant"), [], token="fuzzfuzzfuzzfuzz0123")
    )
    return pending, issued


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    with fuzzed_app(
        tmp_path_factory.mktemp("fuzz"),
        admin_token=ADMIN_TOKEN,
        # Every channel's secret, so that signed junk gets past the signature checks.
        twilio_auth_token=TWILIO_TOKEN,
        public_url=PUBLIC_URL,
        meta_app_secret=META_SECRET,
        meta_verify_token=META_VERIFY,
        telegram_secret_token=TELEGRAM_SECRET,
        # Limits the fuzz would otherwise reach within seconds: past them every request
        # is a 429 and the handlers behind are never reached. (Wrong admin tokens keep
        # their default limit: its 429 is part of what is fuzzed.)
        public_rate_per_minute=100_000,
    ) as (client, app_settings):
        app = client.app
        assert isinstance(app, FastAPI)
        pending, issued = seed(client, Runtime.of(app).submission_store)
        service = Runtime.of(app).conversations.catalog.menu()[0].id
        reference = {"reference": pending.submission.reference}
        anchors: dict[str, list[dict[str, Any]]] = {
            "GET /api/v1/analytics/{service}": [{"path_parameters": {"service": service}}],
            "GET /analytics/{service}": [{"path_parameters": {"service": service}}],
            "GET /api/v1/submissions/{reference}": [{"path_parameters": reference}],
            "POST /api/v1/submissions/{reference}/decision": [
                {"path_parameters": reference},
                {"path_parameters": {"reference": issued.submission.reference}},
            ],
            "POST /api/v1/submissions/{reference}/revoke": [{"path_parameters": reference}],
            "POST /api/v1/notifications/{notification_id}/retry": [
                {"path_parameters": {"notification_id": pending.notifications[0]}}
            ],
            "GET /verify/{reference}": [
                {"path_parameters": {"reference": issued.submission.reference}}
            ],
            "GET /channels/whatsapp/meta": [
                {"query": {"hub.mode": "subscribe", "hub.verify_token": META_VERIFY}}
            ],
        }
        document = client.get("/openapi.json")
        assert document.status_code == 200, document.text
        schema = schemathesis.openapi.from_dict(document.json())
        yield Fuzzed(app, app_settings, client, schema, anchors)


def operations(schema: BaseSchema) -> list[Operation]:
    """Every operation of the schema; one schemathesis cannot read fails the test."""
    found = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        found.append(result.ok())
    return found


# ----------------------------------------------------------------------- schema-driven cases
CREDENTIALS = st.sampled_from(["admin", "admin", "admin", "generated", "none"])


def with_credentials(headers: dict[str, str], credentials: str) -> dict[str, str]:
    """The case's headers with the admin token, without Authorization, or as generated
    (schemathesis often makes one up: empty, not Bearer, junk)."""
    kept = {k: v for k, v in headers.items() if k.lower() != "x-schemathesis-testcaseid"}
    if credentials == "generated":
        return kept
    kept = {k: v for k, v in kept.items() if k.lower() != "authorization"}
    if credentials == "admin":
        kept["Authorization"] = f"Bearer {ADMIN_TOKEN}"
    return kept


def request_of(client: TestClient, case: Case, credentials: str) -> httpx.Request:
    """The case as the bytes on the wire. schemathesis serialises for `requests`: the
    request is prepared by `requests` (query string, body and headers as schemathesis
    meant them) and rebuilt for the TestClient. A case no HTTP client can send (a header
    that is not Latin-1, say) is rejected: it could never reach a server."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL)
    headers = with_credentials(dict(kwargs["headers"]), credentials)
    try:
        prepared = requests.Request(
            method=kwargs["method"],
            url=kwargs["url"],
            headers=headers,
            params=kwargs.get("params"),
            data=kwargs.get("data"),
            json=kwargs.get("json"),
            files=kwargs.get("files"),
            cookies=kwargs.get("cookies"),
        ).prepare()
        body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
        assert prepared.method is not None
        assert prepared.url is not None
        assert body is None or isinstance(body, bytes), f"not sent as bytes: {body!r}"
        headers = {
            name: value.decode("latin-1") if isinstance(value, bytes) else value
            for name, value in prepared.headers.items()
        }
        return client.build_request(prepared.method, prepared.url, headers=headers, content=body)
    except (ValueError, UnicodeError, requests.RequestException, httpx.InvalidURL):
        reject()


def fuzz(
    fuzzed: Fuzzed, operation: Operation, mode: GenerationMode, label: str, **fixed: Any
) -> None:
    """`FUZZ` examples of `operation` in `mode`, with `fixed` parameters (anchors)."""
    strategy = operation.as_strategy(generation_mode=mode, **fixed)

    @settings(FUZZ, max_examples=FEWER.get(operation.label, EXAMPLES))
    @given(case=strategy, credentials=CREDENTIALS)
    def run(case: Case, credentials: str) -> None:
        fuzzed.send(label, request_of(fuzzed.client, case, credentials))

    run()


def coverage_cases(schema: BaseSchema, operation: Operation) -> list[Case]:
    """schemathesis's deterministic cases: each parameter at its bounds, missing, of
    another type; the methods the operation does not take; no Authorization."""
    config = schema.config.generation_for(operation=operation)
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    cases = schema.iter_coverage_cases(operation, generation_modes=modes, generation_config=config)
    return list(cases)[: FEWER.get(operation.label)]


def negatable(operation: Operation, covered: list[Case]) -> bool:
    """Whether anything of the operation can be made invalid (a parameter, a header):
    schemathesis's coverage cases say so. Otherwise its negative generation could only
    give up, after seconds of trying (a lone free-string path parameter)."""
    for case in covered:
        meta = case.meta
        if meta is None or meta.generation.mode is not GenerationMode.NEGATIVE:
            continue
        description = str(getattr(meta.phase.data, "description", ""))
        same_method = case.method.upper() == operation.method.upper()
        if same_method and not description.startswith("Malformed Content-Type"):
            return True
    return False


# Integers no column holds, and spellings of integers a lenient parser might take.
ODD_INTEGERS = (
    2**31,
    2**63 - 1,
    2**63,
    -(2**63) - 1,
    10**100,
    "1_000",
    " 1",
    "+1",
    "0x10",
    "١٢",  # Arabic-Indic digits: Python's int() reads them
    "1e3",
    "9" * 5000,
)


def odd_integer_cases(base: Case) -> Iterator[Case]:
    """`base` (a valid case) with each integer parameter of the query or the path set to
    each of `ODD_INTEGERS`: hypothesis may or may not draw 2**63 within its budget."""
    operation = base.operation
    for parameter in operation.iter_parameters():
        schema = parameter.definition.get("schema", {})
        if schema.get("type") != "integer" or parameter.location.value not in ("path", "query"):
            continue
        for value in ODD_INTEGERS:
            path = dict(base.path_parameters or {})
            query = dict(base.query or {})
            (path if parameter.location.value == "path" else query)[parameter.name] = value
            yield operation.Case(
                method=base.method, path_parameters=path, query=query, headers=base.headers
            )


def test_no_operation_of_the_schema_answers_5xx(fuzzed: Fuzzed) -> None:
    """Every operation of /openapi.json: schemathesis's deterministic coverage cases,
    odd integers, then generated cases within and outside the schema, free and anchored.
    Failures are gathered (one bug must not hide the others), each with its request."""
    failures: list[str] = []

    def deterministic(label: str, cases: Iterator[Case] | list[Case]) -> None:
        for case in cases:
            try:
                fuzzed.send(label, request_of(fuzzed.client, case, "admin"))
            except UnsatisfiedAssumption:  # a case no client can send
                continue
            except Exception as exc:
                failures.append(f"{label}: {summary(exc)}")

    for operation in operations(fuzzed.schema):
        covered = coverage_cases(fuzzed.schema, operation)
        deterministic(f"{operation.label} (coverage)", covered)
        deterministic(f"{operation.label} (odd integers)", odd_integer_cases(covered[0]))
        variants: list[tuple[str, dict[str, Any]]] = [(operation.label, {})]
        variants += [
            (f"{operation.label} (anchored)", a) for a in fuzzed.anchors.get(operation.label, [])
        ]
        modes = [GenerationMode.POSITIVE]
        if negatable(operation, covered):
            modes.append(GenerationMode.NEGATIVE)
        for label, fixed in variants:
            for mode in modes:
                try:
                    fuzz(fuzzed, operation, mode, label, **fixed)
                except Unsatisfiable:
                    # Nothing left to negate once anchored (the path fixed, no other
                    # parameter): the free variant and the coverage cases had it.
                    assert mode is GenerationMode.NEGATIVE, f"{label}: no positive case"
                except Exception as exc:
                    failures.append(f"{label} ({mode.value}): {summary(exc)}")
    assert not failures, "\n\n".join(failures)


def test_the_schema_lists_every_channel_webhook(fuzzed: Fuzzed) -> None:
    """No webhook escapes the fuzz by being left out of the document, and every anchor
    names an operation that exists."""
    labels = {operation.label for operation in operations(fuzzed.schema)}
    webhooks = {f"POST /channels{channel.path}" for channel in WEBHOOKS.values()}
    assert webhooks <= labels, webhooks - labels
    assert set(fuzzed.anchors) <= labels, set(fuzzed.anchors) - labels


# ----------------------------------------------------------------------- channel junk
def nested(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FORM_PAIRS = st.lists(st.tuples(st.text(max_size=12), st.text(max_size=30)), max_size=8)
BODIES = st.one_of(
    st.binary(max_size=600),
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),
    st.tuples(st.integers(1, 5000), st.sampled_from(["list", "object"])).map(lambda t: nested(*t)),
    st.sampled_from([1023, 1024, 1025, 5000]).map(lambda depth: nested(depth, "list")),
    # Under, at and over the 64 KiB limit (Meta's path takes up to 3 MB).
    st.sampled_from([60_000, 65_536 - 12, 65_537, 200_000]).map(
        lambda n: b'{"text": "' + b"x" * n + b'"}'
    ),
    FORM_PAIRS.map(lambda pairs: urlencode(pairs).encode()),
    FORM_PAIRS.map(lambda pairs: urlencode(pairs, encoding="latin-1", errors="replace").encode()),
    st.sampled_from(
        [
            b"from=%ff%fe&text=\xff\xfe\x00&id=%00",
            b"&&&===&a=b=c&%zz=%",
            b"sessionId=1&phoneNumber=%2B97517123456&serviceCode=&text=" + b"1*" * 3000,
            b"\xef\xbb\xbf{}",
            b'{"user": "\\ud800\\udfff"}',
            b"",
        ]
    ),
)
OTHER_CONTENT_TYPES = st.sampled_from(
    [
        None,
        "",
        "application/json",
        "application/json; charset=utf-16",
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=latin-1",
        "multipart/form-data; boundary=fuzz",
        "multipart/form-data",
        "text/plain",
        "text/xml",
        "application/octet-stream",
        "*/*",
        "application/x-www-form-urlencoded, application/json",
    ]
)


def signed(url: str, body: bytes) -> dict[str, str]:
    """The header each provider would send with `body` to `url`, right for this gateway
    (Africa's Talking and Hubtel sign nothing: the caller is on the allow-list)."""
    if url.startswith("/channels/whatsapp/meta"):
        return {META_HEADER: hub_signature(META_SECRET, body)}
    if url.startswith("/channels/telegram"):
        return {TELEGRAM_HEADER: TELEGRAM_SECRET}
    if "twilio" in url:
        form: Any = parsed_form(body)  # a multi-dict: the validator reads every value
        return {TWILIO_HEADER: compute_signature(TWILIO_TOKEN, PUBLIC_URL + url, form)}
    return {}


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_channel_webhooks_answer_junk_bodies_without_5xx(fuzzed: Fuzzed, name: str) -> None:
    path = "/channels" + WEBHOOKS[name].path
    label = f"POST {path} (junk)"
    limit = getattr(WEBHOOKS[name], "max_body_bytes", fuzzed.settings.max_body_bytes)

    @settings(FUZZ, max_examples=JUNK_EXAMPLES)
    @given(
        body=BODIES,
        content_type=st.one_of(st.just(provider_type(name)), OTHER_CONTENT_TYPES),
        sign=st.sampled_from([True, True, True, False]),
        query=st.sampled_from(["", "", "?token=%00&token=" + "x" * 300, "?a=%ff&b"]),
    )
    def run(body: bytes, content_type: str | None, sign: bool, query: str) -> None:
        headers = signed(path + query, body) if sign else {}
        if content_type is not None:
            headers["content-type"] = content_type
        request = fuzzed.client.build_request("POST", path + query, content=body, headers=headers)
        response = fuzzed.send(label, request)
        if len(body) > limit:
            assert response.status_code == 413, response.text

    run()


# ----------------------------------------------------------------------- bodies too large
def test_operations_taking_a_body_refuse_one_over_the_limit(fuzzed: Fuzzed) -> None:
    """Each operation of the schema that takes a body, given one past `max_body_bytes`,
    announced by Content-Length (413) and streamed without one (413, or 411 where a
    length is required): refused unread, never a 5xx. (The webhooks' own limits are in
    tests/gateway/providers/test_malformed_bodies.py.)"""
    over = b'{"decision": "reject", "reason": "' + b"x" * fuzzed.settings.max_body_bytes + b'"}'
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "content-type": "application/json"}
    taking = [op for op in operations(fuzzed.schema) if op.body]
    assert taking, "no operation of the schema takes a body"
    for operation in taking:
        method = operation.method.upper()
        path = operation.path.replace("{", "").replace("}", "")
        announced = fuzzed.client.build_request(method, path, content=over, headers=headers)
        assert fuzzed.send("too large", announced).status_code == 413

        def pieces() -> Iterator[bytes]:
            yield from (over[i : i + 16_384] for i in range(0, len(over), 16_384))

        streamed = fuzzed.client.build_request(method, path, content=pieces(), headers=headers)
        assert fuzzed.send("too large", streamed).status_code in (411, 413)


# ----------------------------------------------------------------------- outside the schema
ODD_METHODS = ("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE")
ODD_PATHS = (
    "/",
    "/api/v1/",
    "/api/v1/submissions/",
    "/api/v1/submissions/%00",
    "/api/v1/submissions/" + "A" * 5000,
    "/api/v1/notifications/-1/retry",
    "/api/v1/notifications/99999999999999999999999/retry",
    "/api/v1/analytics/%ff%fe",
    "/channels/",
    "/channels/../api/v1/messages",
    "/channels/web/messages/",
    "/d/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/verify/%0d%0aSet-Cookie:%20x=1",
    "/chat/../../etc/passwd",
    "/analytics/%00.js",
)


def every_route(app: FastAPI) -> Iterator[Route]:
    for route in app.routes:
        if isinstance(route, Route):
            yield route


def test_other_methods_paths_and_hidden_routes_answer_without_5xx(fuzzed: Fuzzed) -> None:
    """Each route with the methods it does not take; paths no route has; and the routes
    kept out of the schema (static assets, /docs, /openapi.json) with a junk query."""
    client = fuzzed.client
    for route in every_route(fuzzed.app):
        path = route.path.replace("{", "").replace("}", "")  # a template's name as a value
        for method in ODD_METHODS:
            if method not in (route.methods or set()):
                fuzzed.send("other methods", client.build_request(method, path))
        if not route.include_in_schema:
            for method in sorted(route.methods or {"GET"}):
                junk = client.build_request(method, path, params={"q": "\x00" * 50, "": "%"})
                fuzzed.send("routes outside the schema", junk)
    for path in ODD_PATHS:
        for method in ("GET", "POST"):
            fuzzed.send("unknown paths", client.build_request(method, path, content=b"\xff"))


def test_report_requests_sent(fuzzed: Fuzzed, capsys: pytest.CaptureFixture[str]) -> None:
    """Last in the module (pytest keeps the file's order): how much was tried."""
    fuzzed.sent.report("OpenAPI fuzz", capsys)
