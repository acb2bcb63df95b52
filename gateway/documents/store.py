"""Where issued documents are kept: a local directory, or an S3-compatible bucket.

A certificate is issued once and fetched again whenever the citizen opens the link sent to
them, so documents are stored by key (e.g. `BR/BR-2026-000123.pdf`) rather than re-rendered.
The gateway picks the store from one setting, a URL, with `store_from_settings(url, var_dir)`:

- unset (None or empty): a directory, `var_dir / "documents"`. Fine for one server.
- `file:///srv/gateway/documents`: a directory at that absolute path.
- `s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION]`: an S3 bucket, keys put under `PREFIX/`
  when given. `endpoint` is the address of an S3-compatible server (MinIO, Ceph, Garage...),
  e.g. `s3://documents?endpoint=http://minio:9000&region=us-east-1`; leave it out for AWS.
  The region comes from `region`, else from AWS_REGION or AWS_DEFAULT_REGION.
  Credentials come from the standard environment variables AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones); when those are unset,
  boto3's default chain applies (shared credentials file, instance or task role). They are
  refused inside the URL: settings get logged and shown, secrets must not be.

Keys are one or more `/`-separated segments of ASCII letters, digits, `.`, `_` and `-`, each
starting with a letter, digit or `_`, at most 512 characters in all. Both stores accept exactly
the same keys, so moving from one to the other never strands a document; the rule also means a
key can never climb out of the directory store's root (no `..`, no absolute path) nor name a
hidden or temporary file.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable
from urllib.parse import parse_qs, unquote, urlsplit

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_KEY_LENGTH: Final = 512
_SEGMENT: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
# The error codes S3 and S3-compatible servers give for a key that does not exist.
_MISSING_CODES: Final = frozenset({"NoSuchKey", "404", "NotFound"})


@runtime_checkable
class DocumentStore(Protocol):
    """Stores documents by key. Writes are atomic: a reader sees the old or the new document."""

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing any document already there."""
        ...

    async def get(self, key: str) -> bytes | None:
        """The document stored under `key`, or None if there is none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the document under `key`; removing a missing document is not an error."""
        ...


def validate_key(key: str) -> str:
    """`key` itself if it is a valid document key (see the module docstring), else ValueError."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"a document key has 1 to {MAX_KEY_LENGTH} characters, got {key!r}")
    if not all(_SEGMENT.fullmatch(segment) for segment in key.split("/")):
        raise ValueError(
            f"invalid document key {key!r}: use /-separated segments of letters, digits, "
            "'.', '_' and '-', each starting with a letter, digit or '_'"
        )
    return key


class DirectoryStore:
    """Documents as files under `root`, one file per key (`a/b.pdf` is `root/a/b.pdf`).

    File I/O runs in a worker thread so a slow disk never stalls the event loop that answers
    USSD sessions. `content_type` is not kept: the key's extension says it.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, key: str) -> Path:
        """The file holding `key`; ValueError for a key that is invalid or leaves the root.

        Resolving symbolic links touches the disk: call it off the event loop.
        """
        path = self.root.joinpath(*validate_key(key).split("/"))
        # The key rule already forbids `..` and absolute paths; this also refuses a symbolic
        # link inside the root that points out of it.
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise ValueError(f"document key {key!r} leads out of {self.root}")
        return path

    # Each method checks the key at once (no I/O), then does everything else in a thread.

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        validate_key(key)
        await asyncio.to_thread(lambda: _write_atomically(self.path_for(key), data))

    async def get(self, key: str) -> bytes | None:
        validate_key(key)
        return await asyncio.to_thread(lambda: _read(self.path_for(key)))

    async def delete(self, key: str) -> None:
        validate_key(key)
        await asyncio.to_thread(lambda: _remove(self.path_for(key)))

    def __repr__(self) -> str:
        return f"DirectoryStore({str(self.root)!r})"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it over `path`.

    The rename is atomic on POSIX, so a reader, or a crash, never sees half a document. The
    temporary name starts with a dot, which no valid key does, so it never clashes with one.
    The file keeps mkstemp's owner-only mode: documents hold citizens' personal data.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable: an issued document must survive a power cut."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _remove(path: Path) -> None:
    with suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
        path.unlink()


class S3Store:
    """Documents as objects in an S3 bucket, on AWS or any S3-compatible server.

    boto3 is synchronous; its calls run in worker threads (`asyncio.to_thread`), which its
    clients support, rather than through an async wrapper such as aiobotocore, which pins
    exact botocore versions and so holds back security updates of the whole AWS stack.
    """

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        session_token: str | None = None,
        prefix: str = "",
    ) -> None:
        # Imported here: boto3 takes a fifth of a second to import, which deployments that
        # keep documents in a directory need not pay.
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = validate_key(prefix.strip("/")) + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        config = Config(
            signature_version="s3v4",
            # Many S3-compatible servers serve buckets only as a path (http://host/bucket/key).
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            retries={"mode": "standard", "max_attempts": 4},
            connect_timeout=5,
            read_timeout=30,
            # Checksums only where S3 requires them: servers other than AWS may reject the
            # CRC checksum headers that recent botocore versions send by default.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            aws_session_token=session_token,
            config=config,
        )

    @property
    def client(self) -> S3Client:
        """The boto3 client, for what the protocol leaves out (e.g. presigned download links)."""
        return self._client

    def object_key(self, key: str) -> str:
        """The bucket's key for document `key`."""
        return self.prefix + validate_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(
            self._client.put_object,
            Bucket=self.bucket,
            Key=self.object_key(key),
            Body=data,
            ContentType=content_type,
        )

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._get, self.object_key(key))

    def _get(self, object_key: str) -> bytes | None:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=object_key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING_CODES:
                return None
            raise
        body = response["Body"]
        try:
            return body.read()
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        # S3 answers a delete of a missing key with success, which is the protocol's meaning.
        await asyncio.to_thread(
            self._client.delete_object, Bucket=self.bucket, Key=self.object_key(key)
        )

    def close(self) -> None:
        """Close the client's pooled connections."""
        self._client.close()

    def __repr__(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"S3Store({self.bucket!r}{where}, prefix={self.prefix!r})"


def store_from_settings(
    url: str | None, var_dir: Path, *, environ: Mapping[str, str] | None = None
) -> DirectoryStore | S3Store:
    """The document store that `url` names (see the module docstring for its forms).

    `environ` (default: `os.environ`) supplies the AWS credentials and region for `s3://`.
    Raises ValueError for a URL it cannot use.
    """
    if not url:
        return DirectoryStore(var_dir / "documents")
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "put no credentials in the documents URL: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY in the environment instead"
        )
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValueError(f"a file URL needs an absolute path (file:///...), got {url!r}")
        return DirectoryStore(Path(unquote(parts.path)))
    if parts.scheme == "s3":
        bucket = parts.netloc
        if not bucket or ":" in bucket:
            raise ValueError(f"an s3 URL names its bucket: s3://BUCKET, got {url!r}")
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        unknown = sorted(set(query) - {"endpoint", "region"})
        if unknown:
            raise ValueError(f"unknown s3 URL parameter(s) {unknown}: use endpoint and region")
        endpoint = query.get("endpoint")
        if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
            raise ValueError(f"the s3 endpoint must be an http(s) address, got {endpoint!r}")
        return S3Store(
            bucket,
            endpoint_url=endpoint,
            region=query.get("region") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
            access_key=env.get("AWS_ACCESS_KEY_ID"),
            secret_key=env.get("AWS_SECRET_ACCESS_KEY"),
            session_token=env.get("AWS_SESSION_TOKEN"),
            prefix=unquote(parts.path),
        )
    raise ValueError(f"unsupported documents URL {url!r}: use file:///PATH or s3://BUCKET")
