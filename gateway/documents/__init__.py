"""The documents a submission issues: rendering them as PDF and keeping them in a store."""

from gateway.documents.pdf import KINDS, Labels, render_certificate
from gateway.documents.qr import qr_code, qr_png
from gateway.documents.store import (
    DirectoryStore,
    DocumentStore,
    S3Store,
    store_from_settings,
    validate_key,
)

__all__ = [
    "KINDS",
    "DirectoryStore",
    "DocumentStore",
    "Labels",
    "S3Store",
    "qr_code",
    "qr_png",
    "render_certificate",
    "store_from_settings",
    "validate_key",
]
