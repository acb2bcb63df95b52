"""The document stores, one suite run on each: a directory, and a real S3 server.

The S3 server is moto's, started in a thread on a free loopback port; S3Store talks to it over
HTTP with boto3, exactly as it would to MinIO or AWS.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from gateway.documents import (
    DirectoryStore,
    DocumentStore,
    S3Store,
    store_from_settings,
    validate_key,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PDF = "application/pdf"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
REGION = "us-east-1"
_buckets = itertools.count(1)

ESCAPING_OR_INVALID_KEYS = [
    "",
    "../outside.pdf",
    "BR/../../outside.pdf",
    "BR/./x.pdf",
    "/etc/passwd",
    "BR//x.pdf",
    "BR/",
    "..",
    ".hidden",
    ".x.pdf.tmp",
    "BR\\..\\x.pdf",
    "with space.pdf",
    "naïve.pdf",
    "-rf",
    "x" * 513,
]


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free loopback port, for the whole session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")  # a client takes a fifth of a second to make
def s3_admin(s3_endpoint: str) -> Iterator[S3Client]:
    """A plain boto3 client on the server, to set up buckets and look behind the store."""
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    yield client
    client.close()


@pytest.fixture
def bucket(s3_admin: S3Client) -> str:
    """A new, empty bucket for one test."""
    name = f"documents-{os.getpid()}-{next(_buckets)}"
    s3_admin.create_bucket(Bucket=name)
    return name


def make_s3_store(endpoint: str, bucket: str, prefix: str = "") -> S3Store:
    return S3Store(
        bucket,
        endpoint_url=endpoint,
        region=REGION,
        access_key=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        secret_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        prefix=prefix,
    )


@pytest.fixture(params=["directory", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DocumentStore]:
    if request.param == "directory":
        yield DirectoryStore(tmp_path / "documents")
        return
    s3_store = make_s3_store(
        request.getfixturevalue("s3_endpoint"), request.getfixturevalue("bucket")
    )
    yield s3_store
    s3_store.close()


def test_both_stores_follow_the_protocol(store: DocumentStore) -> None:
    assert isinstance(store, DocumentStore)


async def test_a_document_put_is_got_back_byte_for_byte(store: DocumentStore) -> None:
    data = bytes(range(256)) * 100
    await store.put("BR/2026/BR-2026-000123.pdf", data, PDF)

    assert await store.get("BR/2026/BR-2026-000123.pdf") == data


async def test_a_missing_key_gives_none(store: DocumentStore) -> None:
    assert await store.get("BR/never-issued.pdf") is None


async def test_a_key_that_is_only_a_prefix_of_others_is_missing(store: DocumentStore) -> None:
    await store.put("BR/2026/a.pdf", b"a", PDF)

    assert await store.get("BR/2026") is None
    assert await store.get("BR/2026/a.pdf/more") is None


async def test_a_deleted_document_is_gone(store: DocumentStore) -> None:
    await store.put("BR-1.pdf", b"%PDF-1", PDF)
    await store.put("BR-2.pdf", b"%PDF-2", PDF)

    await store.delete("BR-1.pdf")

    assert await store.get("BR-1.pdf") is None
    assert await store.get("BR-2.pdf") == b"%PDF-2"


async def test_deleting_a_missing_document_is_no_error(store: DocumentStore) -> None:
    await store.delete("BR/never-issued.pdf")

    assert await store.get("BR/never-issued.pdf") is None


async def test_a_put_replaces_the_document_under_its_key(store: DocumentStore) -> None:
    await store.put("BR-1.pdf", b"first version, longer than the second", PDF)
    await store.put("BR-1.pdf", b"second", PDF)

    assert await store.get("BR-1.pdf") == b"second"


async def test_an_empty_document_is_kept_as_empty_not_missing(store: DocumentStore) -> None:
    await store.put("empty.bin", b"", "application/octet-stream")

    assert await store.get("empty.bin") == b""


@pytest.mark.parametrize("key", ESCAPING_OR_INVALID_KEYS)
async def test_a_key_that_could_escape_or_is_invalid_is_refused_by_every_method(
    store: DocumentStore, key: str
) -> None:
    with pytest.raises(ValueError, match="key"):
        await store.put(key, b"x", PDF)
    with pytest.raises(ValueError, match="key"):
        await store.get(key)
    with pytest.raises(ValueError, match="key"):
        await store.delete(key)


async def test_concurrent_puts_of_different_keys_all_land(store: DocumentStore) -> None:
    documents = {f"BR/BR-2026-{n:06d}.pdf": f"%PDF document {n}".encode() * 50 for n in range(24)}

    await asyncio.gather(*(store.put(key, data, PDF) for key, data in documents.items()))

    got = await asyncio.gather(*(store.get(key) for key in documents))
    assert dict(zip(documents, got, strict=True)) == documents


async def test_concurrent_puts_of_one_key_leave_one_whole_version(store: DocumentStore) -> None:
    versions = [bytes([n]) * 200_000 for n in range(8)]

    await asyncio.gather(*(store.put("BR-1.pdf", data, PDF) for data in versions))

    assert await store.get("BR-1.pdf") in versions


# ---------------------------------------------------------------------------- directory store


async def test_the_directory_store_writes_nothing_outside_its_root(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "documents")
    for key in ESCAPING_OR_INVALID_KEYS:
        with pytest.raises(ValueError, match="key"):
            await store.put(key, b"x", PDF)

    assert sorted(p.name for p in tmp_path.iterdir()) == []


async def test_the_directory_store_refuses_a_symlink_out_of_its_root(tmp_path: Path) -> None:
    root = tmp_path / "documents"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    store = DirectoryStore(root)

    with pytest.raises(ValueError, match="leads out of"):
        await store.put("link/x.pdf", b"x", PDF)
    assert list(outside.iterdir()) == []


async def test_the_directory_store_leaves_one_owner_only_file_and_no_temporary(
    tmp_path: Path,
) -> None:
    store = DirectoryStore(tmp_path / "documents")
    await store.put("BR/BR-1.pdf", b"%PDF-1", PDF)
    await store.put("BR/BR-1.pdf", b"%PDF-2", PDF)

    files = [p for p in (tmp_path / "documents").rglob("*") if p.is_file()]
    assert files == [tmp_path / "documents" / "BR" / "BR-1.pdf"]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600


async def test_a_failed_directory_write_leaves_the_old_document_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DirectoryStore(tmp_path / "documents")
    await store.put("BR-1.pdf", b"old", PDF)

    def failing_replace(source: str, target: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        await store.put("BR-1.pdf", b"new", PDF)

    assert await store.get("BR-1.pdf") == b"old"
    assert [p.name for p in (tmp_path / "documents").iterdir()] == ["BR-1.pdf"]


# ---------------------------------------------------------------------------------- S3 store


async def test_the_s3_store_keeps_the_content_type(
    s3_endpoint: str, bucket: str, s3_admin: S3Client
) -> None:
    store = make_s3_store(s3_endpoint, bucket)
    await store.put("BR-1.pdf", b"%PDF-1", PDF)
    store.close()

    assert s3_admin.head_object(Bucket=bucket, Key="BR-1.pdf")["ContentType"] == PDF


async def test_the_s3_store_puts_keys_under_its_prefix(
    s3_endpoint: str, bucket: str, s3_admin: S3Client
) -> None:
    store = make_s3_store(s3_endpoint, bucket, prefix="/issued/")
    await store.put("BR/BR-1.pdf", b"%PDF-1", PDF)
    got = await store.get("BR/BR-1.pdf")
    store.close()

    assert got == b"%PDF-1"
    listing = s3_admin.list_objects_v2(Bucket=bucket)
    assert [item.get("Key") for item in listing.get("Contents", [])] == ["issued/BR/BR-1.pdf"]


async def test_an_s3_error_other_than_a_missing_key_is_raised(s3_endpoint: str) -> None:
    store = make_s3_store(s3_endpoint, "no-such-bucket-anywhere")

    with pytest.raises(ClientError, match="NoSuchBucket"):
        await store.get("BR-1.pdf")
    store.close()


# ---------------------------------------------------------------------------- from settings


def test_no_url_means_the_documents_directory_under_var(tmp_path: Path) -> None:
    store = store_from_settings(None, tmp_path / "var")

    assert isinstance(store, DirectoryStore)
    assert store.root == tmp_path / "var" / "documents"
    assert isinstance(store_from_settings("", tmp_path), DirectoryStore)


def test_a_file_url_names_the_directory() -> None:
    store = store_from_settings("file:///srv/gateway/my%20documents", Path("var"))

    assert isinstance(store, DirectoryStore)
    assert store.root == Path("/srv/gateway/my documents")


@pytest.fixture
def no_ambient_aws_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials for boto3 to find by itself: not in os.environ, files or instance roles."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("no_ambient_aws_credentials")
async def test_an_s3_url_gives_a_working_s3_store_with_credentials_from_the_environment(
    s3_endpoint: str, bucket: str, s3_admin: S3Client
) -> None:
    """boto3 cannot sign a request without credentials: the put works only with `environ`'s."""
    store = store_from_settings(
        f"s3://{bucket}/issued?endpoint={s3_endpoint}&region=eu-west-1",
        Path("var"),
        environ=CREDENTIALS,
    )

    assert isinstance(store, S3Store)
    assert store.client.meta.region_name == "eu-west-1"
    await store.put("BR-1.pdf", b"%PDF-1", PDF)
    assert await store.get("BR-1.pdf") == b"%PDF-1"
    store.close()
    assert s3_admin.get_object(Bucket=bucket, Key="issued/BR-1.pdf")["Body"].read() == b"%PDF-1"


def test_the_s3_region_falls_back_to_the_environment() -> None:
    store = store_from_settings(
        "s3://documents", Path("var"), environ={**CREDENTIALS, "AWS_DEFAULT_REGION": "ap-south-1"}
    )

    assert isinstance(store, S3Store)
    assert store.client.meta.region_name == "ap-south-1"
    store.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3://AKIA:secret@documents", "no credentials"),
        ("s3://", "names its bucket"),
        ("s3://documents?endpoint=minio:9000", "http"),
        ("s3://documents?bucket=other", "unknown s3 URL parameter"),
        ("file://relative/path", "absolute path"),
        ("ftp://documents", "unsupported"),
        ("/srv/documents", "unsupported"),
    ],
)
def test_an_unusable_url_is_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        store_from_settings(url, Path("var"), environ=CREDENTIALS)


@pytest.mark.parametrize("key", ["BR-2026-000123.pdf", "BR/2026/x_1.pdf", "_a", "A" * 512])
def test_valid_keys_pass(key: str) -> None:
    assert validate_key(key) == key
